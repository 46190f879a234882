"""The pods pane: the list + watch loop's pods in a keyed Line-API table, with a filter.

Rows are keyed by namespace/name; a pod's cells are worked out again only when that pod
(or its selection or sidecar state) changed, and only the rows on screen are painted, so
10,000 pods list at once and the cursor and scroll survive every event.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input

from meshtui.kube.pods import PodEvent, PodIndex, PodInfo, replicas_of, successor
from meshtui.ui.messages import KubeProblem, OpenPlace
from meshtui.ui.proxies.messages import PodsChanged, PodSelected
from meshtui.ui.proxies.pods_table import PodsTable, row_of
from meshtui.ui.widgets.filter_box import FilterBox
from meshtui.ui.widgets.keys import into_box
from meshtui.ui.widgets.state_line import StateLine

PodEvents = Callable[[], AsyncIterator[PodEvent]]


class PodsPane(Widget):
    BINDINGS = [
        into_box(
            Binding("slash", "filter", "Filter pods", tooltip="Filter pods by name or namespace", id="filter")
        ),
        Binding(
            "s",
            "toggle_sidecars",
            "Sidecars only",
            tooltip="Show only pods with an istio-proxy sidecar",
            id="toggle_sidecars",
        ),
        Binding(
            "enter",
            "select",
            "Show stats",
            show=False,
            tooltip="Show this pod's proxy views (Stats, Clusters, Config, Proxy)",
            id="select",
        ),
        Binding(
            "R",
            "replicas",
            "Replicas",
            tooltip="This pod's workload: every replica side by side (the Replicas place)",
            id="replicas",
        ),
        Binding(
            "T",
            "traces",
            "Traces",
            tooltip="This workload's traces in Jaeger (the Traces place)",
            id="traces",
        ),
    ]

    def __init__(self, clock: Callable[[], float] = time.time, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.index = PodIndex()
        self.sidecars_only = False
        self.text_filter = ""
        self.selected: PodInfo | None = None
        self.following: PodInfo | None = None  # a selected pod that was deleted: follow its workload
        self._siblings: frozenset[tuple[str, str]] = frozenset()  # its workload's pods when it went
        self._shown: dict[str, PodInfo] = {}  # key (namespace/name) -> the pod, on the rows shown
        self._cells: dict[str, tuple[str, ...]] = {}  # every pod's row (filtered out or not)
        self._flagged: set[str] = set()  # rows drawn with a ▶ (selected) or ✗ (sidecar down)
        self.sidecar_down: dict[tuple[str, str], str] = {}  # pod key -> why its Envoy does not answer

    def compose(self) -> ComposeResult:
        yield FilterBox(back_to=lambda: self.table, hides=True, placeholder="filter pods", id="pods-filter")
        yield StateLine("connecting to the API server ...", id="pods-state")
        yield PodsTable(self.clock, id="pods-table")

    def on_mount(self) -> None:
        self.set_interval(5, self._refresh_ages)

    @property
    def table(self) -> PodsTable:
        return self.query_one("#pods-table", PodsTable)

    def export_fields(self) -> dict[str, object]:  # ui/export.py
        return {"rows": [self.table.record(key) for key in self.table.rows]}

    def row_text(self, key: str) -> str:
        return "\t".join(self.table.record(key).values())

    # -- the watch ---------------------------------------------------------------------

    def watch_pods(self, events: PodEvents) -> None:
        self._watch(events)

    @work(exclusive=True, group="pod-watch", exit_on_error=False)
    async def _watch(self, events: PodEvents) -> None:
        async for event in events():
            if event.kind == "ERROR":
                self.post_message(KubeProblem(event.message))
                self._set_state(event.message, error=True)
                continue
            in_place = self.index.in_place(event)
            gone = self.index.apply(event)
            self.post_message(KubeProblem(None))
            changed = event.pods if in_place else None
            self.post_message(PodsChanged(self.index.snapshot(), tuple(gone), changed))
            self._follow(gone)

    def _follow(self, gone: list[PodInfo]) -> None:
        """Keep the selection on a workload through a rollout restart (or its ReplicaSet
        making up for a deleted pod); a pod scaled away is not followed to a sibling."""
        sel = self.selected
        if sel is not None and any(p.key == sel.key for p in gone):
            self.following = sel
            self._siblings = frozenset(p.key for p in replicas_of(sel, self.index.pods.values()))
        if self.following is not None:
            nxt = successor(self.following, self.index.pods.values(), self._siblings)
            if nxt is not None:
                old, self.following = self.following, None
                self._select(nxt, followed_from=old.name)

    # -- drawing -----------------------------------------------------------------------

    @on(PodsChanged)
    def _on_pods(self, message: PodsChanged) -> None:
        if message.changed is not None and (self.selected is not None or self.following is not None):
            self._update(message.changed)  # a big cluster's usual event: repaint those rows only
        else:
            self._sync(message.pods)

    def _update(self, pods: tuple[PodInfo, ...]) -> None:
        """Pods changed in place: their rows get new cells; nothing moves."""
        now = self.clock()
        selected = self.selected.key if self.selected is not None else None
        for pod in pods:
            key = f"{pod.namespace}/{pod.name}"
            down = pod.key in self.sidecar_down and pod.sidecar is not None
            row = row_of(pod, now, selected=pod.key == selected, sidecar_down=down)
            self._cells[key] = row
            if key in self._shown:
                self._shown[key] = pod
            self.table.update(key, pod, row)

    def _sync(self, pods: tuple[PodInfo, ...]) -> None:
        """Every pod's row (worked out again only where the pod, its ▶ or its ✗ changed),
        then the rows the filters let through."""
        now = self.clock()
        selected = self.selected.key if self.selected is not None else None
        # rows whose ▶ or ✗ may change: those that show one, and those that should
        marks = [*self.sidecar_down, *([selected] if selected is not None else [])]
        flagged = {f"{ns}/{name}" for ns, name in marks}
        recheck = self._flagged | flagged
        old_pods, old_cells = self.table.pods, self._cells
        all_pods: dict[str, PodInfo] = {}
        cells: dict[str, tuple[str, ...]] = {}
        fresh: list[tuple[str, ...]] = []
        kept = 0
        for pod in pods:
            key = f"{pod.namespace}/{pod.name}"
            row = old_cells.get(key)
            if row is not None:
                kept += 1
            if row is None or old_pods.get(key) is not pod or key in recheck:
                down = pod.key in self.sidecar_down and pod.sidecar is not None
                row = row_of(pod, now, selected=pod.key == selected, sidecar_down=down)
                fresh.append(row)
            all_pods[key], cells[key] = pod, row
        self._cells, self._flagged = cells, flagged
        self.table.set_pods(all_pods, cells, fresh, remeasure=kept < len(old_cells))
        self._refilter()

    def _refilter(self) -> None:
        """The rows the filters let through, in the index's order (sidecars first, then
        namespace and name); the state line; the first selection."""
        text, sidecars_only = self.text_filter.lower(), self.sidecars_only
        shown: dict[str, PodInfo] = {}
        sidecars = 0
        for key, pod in self.table.pods.items():
            if pod.sidecar:
                sidecars += 1
            elif sidecars_only:
                continue
            if text and text not in key.lower():  # the name or the namespace (key: namespace/name)
                continue
            shown[key] = pod
        self._shown = shown
        self.table.show_rows(list(shown))
        total = len(self.table.pods)
        if not total:
            self._set_state("no pods" + (" in this namespace" if self.app else ""))
        elif not shown:
            # say which of the two narrows the list now: s toggles, / edits
            why = [
                w
                for w, on in (
                    ("sidecars only (s shows all)", self.sidecars_only),
                    (f"filter {self.text_filter!r} (/ to change)", bool(self.text_filter)),
                )
                if on
            ]
            self._set_state(f"no pods match (of {total}): {', '.join(why) or 'nothing listed'}")
        else:
            self._set_state(f"{len(shown)} of {total} pods, {sidecars} with sidecars")
        if self.selected is None and self.following is None:
            # start on an application sidecar (what users debug), a gateway otherwise
            running = [p for p in shown.values() if p.sidecar and p.status == "Running"]
            first = next((p for p in running if not p.is_gateway), running[0] if running else None)
            if first is not None:
                self._select(first)

    def mark_sidecar(self, pod: PodInfo, down_because: str | None) -> None:
        """What the app saw of this pod's Envoy: not answering (with why), or answering again."""
        if (pod.key in self.sidecar_down) == (down_because is not None):
            return
        if down_because is None:
            del self.sidecar_down[pod.key]
        else:
            self.sidecar_down[pod.key] = down_because
        self._sync(self.index.snapshot())

    def _refresh_ages(self) -> None:
        self.table.repaint_changed()  # AGE is worked out as a row is painted: rows on screen only

    def _set_state(self, text: str, error: bool = False) -> None:
        self.query_one("#pods-state", StateLine).say(text, error)

    # -- selection ---------------------------------------------------------------------

    def _select(self, pod: PodInfo, followed_from: str | None = None, *, by_user: bool = False) -> None:
        self.selected = pod
        self._sync(self.index.snapshot())  # the ▶ moves to this pod
        self.table.move_to_key(f"{pod.namespace}/{pod.name}")
        self.post_message(PodSelected(pod, followed_from, by_user=by_user))

    def select_key(self, namespace: str, name: str) -> bool:
        """Select a pod by name (from another place); False when it is not listed."""
        pod = self.index.pods.get((namespace, name))
        if pod is None:
            return False
        if f"{namespace}/{name}" not in self._shown and (self.text_filter or self.sidecars_only):
            # a filter hides it: widen the list rather than select a row nobody sees
            self.text_filter, self.sidecars_only = "", False
            self.query_one("#pods-filter", Input).value = ""
            self._sync(self.index.snapshot())
        self._select(pod)
        return True

    @on(PodsTable.Chosen, "#pods-table")
    def _row_chosen(self, event: PodsTable.Chosen) -> None:
        pod = self._shown.get(event.key)
        if pod is not None:
            self._select(pod, by_user=True)

    def action_select(self) -> None:
        self.table.action_choose()

    def action_traces(self) -> None:
        pod = self._shown.get(self.table.current or "")
        if pod is not None:  # Istio names a proxy's spans `<app>.<namespace>`
            self.post_message(OpenPlace("traces", {"service": f"{pod.workload}.{pod.namespace}"}))

    def action_replicas(self) -> None:
        pod = self._shown.get(self.table.current or "")
        if pod is not None:
            where = {"namespace": pod.namespace, "workload": pod.workload, "sidecar": pod.sidecar is not None}
            self.post_message(OpenPlace("replicas", where))

    def action_toggle_sidecars(self) -> None:
        self.sidecars_only = not self.sidecars_only
        self._refilter()

    def action_filter(self) -> None:
        self.query_one(FilterBox).open()

    def show_filter(self, text: str) -> None:
        """Filter as if typed (the Mesh place's `enter` on a service), the box shown."""
        box = self.query_one(FilterBox)
        box.remove_class("hidden")
        box.display = True
        box.value = text

    @on(Input.Changed, "#pods-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.text_filter = event.value.strip()
        self._refilter()
