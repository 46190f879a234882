"""The pods pane: a keyed DataTable fed by the list + watch loop, with a filter.

Rows are keyed by namespace/name and diffed (update_cell / add_row / remove_row),
never cleared, so the cursor and scroll survive every event.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Input

from meshtui.kube.pods import PodEvent, PodIndex, PodInfo, age, successor
from meshtui.ui.messages import KubeProblem, OpenPlace, PodsChanged, PodSelected
from meshtui.ui.widgets.state_line import StateLine
from meshtui.ui.widgets.table import Table

# NAME first: it is what a narrow pane must still show
COLUMNS = ("NAME", "READY", "STATUS", "SIDECAR", "RESTARTS", "AGE", "NAMESPACE", "IP")
PodEvents = Callable[[], AsyncIterator[PodEvent]]


SIDECAR_DOWN = "✗ not answering"
SELECTED = "▶ "


def row_of(
    pod: PodInfo, now: float, *, selected: bool = False, sidecar_down: bool = False
) -> tuple[str, ...]:
    return (
        (SELECTED if selected else "") + pod.name,
        pod.ready,
        pod.status,
        SIDECAR_DOWN if sidecar_down and pod.sidecar else (pod.sidecar or "-"),
        str(pod.restarts),
        age(now - pod.created) if pod.created else "?",
        pod.namespace,
        pod.ip or "-",
    )


class PodsPane(Widget):
    HELP_ENTER = "Show this pod's proxy views (Stats, Clusters, Config, Proxy)"  # the help's enter row
    BINDINGS = [
        Binding("slash", "filter", "Filter pods", tooltip="Filter pods by name or namespace", id="filter"),
        Binding(
            "s",
            "toggle_sidecars",
            "Sidecars only",
            tooltip="Show only pods with an istio-proxy sidecar",
            id="toggle_sidecars",
        ),
        Binding("enter", "select", "Show stats", show=False, id="select"),
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
        self._shown: dict[str, PodInfo] = {}
        self._cells: dict[str, tuple[str, ...]] = {}  # what each row shows now
        self.sidecar_down: dict[tuple[str, str], str] = {}  # pod key -> why its Envoy does not answer

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter pods", id="pods-filter", classes="hidden")
        yield StateLine("connecting to the API server ...", id="pods-state")
        table: DataTable[str] = Table(id="pods-table", cursor_type="row", zebra_stripes=False)
        for col in COLUMNS:
            table.add_column(col, key=col.lower())
        yield table

    def on_mount(self) -> None:
        self.set_interval(5, self._refresh_ages)

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#pods-table", DataTable)

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
            gone = self.index.apply(event)
            self.post_message(KubeProblem(None))
            self.post_message(PodsChanged(self.index.snapshot(), tuple(gone)))
            self._follow(gone)

    def _follow(self, gone: list[PodInfo]) -> None:
        """Keep the selection on a workload through a rollout restart."""
        sel = self.selected
        if sel is not None and any(p.key == sel.key for p in gone):
            self.following = sel
        if self.following is not None:
            nxt = successor(self.following, self.index.pods.values())
            if nxt is not None:
                old, self.following = self.following, None
                self._select(nxt, followed_from=old.name)

    # -- drawing -----------------------------------------------------------------------

    def _visible(self, pods: tuple[PodInfo, ...]) -> list[PodInfo]:
        text = self.text_filter.lower()
        return [
            p
            for p in pods
            if (not self.sidecars_only or p.sidecar)
            and (not text or text in p.name.lower() or text in p.namespace.lower())
        ]

    @on(PodsChanged)
    def _on_pods(self, message: PodsChanged) -> None:
        self._sync(message.pods)

    def _sync(self, pods: tuple[PodInfo, ...]) -> None:
        table = self.table
        now = self.clock()
        want = {f"{p.namespace}/{p.name}": p for p in self._visible(pods)}
        added = False
        with self.app.batch_update():
            for key in [k for k in self._shown if k not in want]:
                table.remove_row(key)
                del self._shown[key]
                self._cells.pop(key, None)
            for key, pod in want.items():
                cells = self._row(pod, now)
                old = self._cells.get(key)
                if old is None:
                    table.add_row(*cells, key=key)
                    added = True
                elif old != cells:
                    for col, a, b in zip(COLUMNS, old, cells, strict=True):
                        if a != b:
                            table.update_cell(key, col.lower(), b, update_width=True)
                self._shown[key] = pod
                self._cells[key] = cells
            if added:
                table.sort("sidecar", "namespace", "name", key=lambda row: (row[0] == "-", row[1], row[2]))
        total = len(self.index.pods)
        if not total:
            self._set_state("no pods" + (" in this namespace" if self.app else ""))
        elif not want:
            self._set_state(f"no pods match (of {total}); press s or / to widen")
        else:
            sidecars = sum(1 for p in self.index.pods.values() if p.sidecar)
            self._set_state(f"{len(want)} of {total} pods, {sidecars} with sidecars")
        if self.selected is None and self.following is None:
            # start on an application sidecar (what users debug), a gateway otherwise
            running = [p for p in want.values() if p.sidecar and p.status == "Running"]
            first = next((p for p in running if not p.is_gateway), running[0] if running else None)
            if first is not None:
                self._select(first)

    def _row(self, pod: PodInfo, now: float) -> tuple[str, ...]:
        selected = self.selected is not None and self.selected.key == pod.key
        return row_of(pod, now, selected=selected, sidecar_down=pod.key in self.sidecar_down)

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
        now = self.clock()
        for key, pod in self._shown.items():
            if pod.created:
                cells = self._row(pod, now)
                self._cells[key] = cells
                self.table.update_cell(key, "age", cells[COLUMNS.index("AGE")])

    def _set_state(self, text: str, error: bool = False) -> None:
        self.query_one("#pods-state", StateLine).say(text, error)

    # -- selection ---------------------------------------------------------------------

    def _select(self, pod: PodInfo, followed_from: str | None = None, *, by_user: bool = False) -> None:
        self.selected = pod
        self._sync(self.index.snapshot())  # the ▶ moves to this pod
        key = f"{pod.namespace}/{pod.name}"
        if key in self._shown:
            self.table.move_cursor(row=self.table.get_row_index(key))
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

    @on(DataTable.RowSelected, "#pods-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        pod = self._shown.get(str(event.row_key.value))
        if pod is not None:
            self._select(pod, by_user=True)

    def action_select(self) -> None:
        table = self.table
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            pod = self._shown.get(str(key.value))
            if pod is not None:
                self._select(pod, by_user=True)

    def action_traces(self) -> None:
        table = self.table
        if table.row_count:
            pod = self._shown.get(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))
            if pod is not None:  # Istio names a proxy's spans `<app>.<namespace>`
                self.post_message(OpenPlace("traces", {"service": f"{pod.workload}.{pod.namespace}"}))

    def action_toggle_sidecars(self) -> None:
        self.sidecars_only = not self.sidecars_only
        self._sync(self.index.snapshot())

    def action_filter(self) -> None:
        box = self.query_one("#pods-filter", Input)
        box.remove_class("hidden")
        box.display = True  # at once: a class change applies at the next refresh, after the next key
        self.screen.set_focus(box)  # now, not after the keys already queued (box.focus() defers)

    @on(Input.Changed, "#pods-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.text_filter = event.value.strip()
        self._sync(self.index.snapshot())

    @on(Input.Submitted, "#pods-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.add_class("hidden")
            event.input.display = False
        self.screen.set_focus(self.table)  # at once: the next key (enter) is for the table

    def key_escape(self) -> None:
        box = self.query_one("#pods-filter", Input)
        if box.has_focus:
            if not box.value:
                box.add_class("hidden")
                box.display = False
            self.screen.set_focus(self.table)
