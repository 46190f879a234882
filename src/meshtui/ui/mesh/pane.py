"""The Mesh place: Kiali's graph and the Istio dashboards as a live table, from the
cluster's Prometheus. Each service and each edge with requests/s, 5xx and 4xx shares,
P50/P90/P99 and a sparkline; `o` sorts by errors, rate or name, `w` changes the window
(1m, 5m, 15m), `/` filters, `p` shows every PromQL it sends (to paste into Prometheus),
`enter` leads to the proxies: a service to its pods, an edge to the calling pod's
Clusters tab, filtered to that destination.

One long-lived worker runs the MeshFeed (every 5 s, Prometheus's scrape interval) while
the place is shown. Without Prometheus the place says what it looked for and how to
install it; nothing else in the app changes.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from meshtui.kube.access import MeshAccess
from meshtui.kube.running import running_pods
from meshtui.prometheus.client import PrometheusError
from meshtui.prometheus.feed import INTERVAL_S, MeshFeed, MeshUpdate
from meshtui.prometheus.queries import WINDOWS, queries
from meshtui.prometheus.source import DirectPrometheus, ForwardedPrometheus, PrometheusSource
from meshtui.ui.mesh.messages import MeshUpdated
from meshtui.ui.mesh.table import SORTS, MeshTable
from meshtui.ui.messages import OpenPlace, ShowPod
from meshtui.ui.options import Options
from meshtui.ui.stale import show_freshness, stale_line
from meshtui.ui.views import PROXIES
from meshtui.ui.widgets.filter_box import FilterBox
from meshtui.ui.widgets.keys import filter_key, next_sort, refresh_key, sort_key
from meshtui.ui.widgets.live_view import LiveView
from meshtui.ui.widgets.state_line import StateLine

VIEWPORT_SETTLE_S = 0.15
NO_CLUSTER = "needs a Kubernetes cluster or --prometheus URL: started with --admin"


class QueriesScreen(ModalScreen[None]):
    """Every PromQL of one refresh, as sent: select and copy, or read."""

    DEFAULT_CSS = """
    QueriesScreen { align: center middle; }
    QueriesScreen > VerticalScroll { width: 95%; height: 90%; border: round $accent; background: $surface; }
    """
    BINDINGS = [Binding("escape,q,p", "dismiss", "Close", id="dismiss")]

    def __init__(self, window: str) -> None:
        super().__init__()
        self.window = window

    def compose(self) -> ComposeResult:
        lines = [
            f"Each column is Prometheus's answer to one of these ({self.window} window), to paste "
            "into Prometheus (esc closes).",
            'Sent as: the 5xx and 4xx rates (`response_code=~"5.."` in the rps query), the share '
            "worked out as Prometheus does (the same number); an edge's latency for the edges on "
            "screen (a selector on their labels; `·` until asked).",
            "",
        ]
        for q in queries(self.window):
            what = "service" if len(q.by) == 1 else "edge"
            lines += [f"# {q.figure}, per {what}", q.expr, ""]
        with VerticalScroll():
            yield Static("\n".join(lines), markup=False)


class MeshPane(LiveView):
    status_name = "mesh"

    DEFAULT_CSS = """
    MeshPane { height: 1fr; }
    MeshPane MeshTable { height: 1fr; }
    """
    BINDINGS = [
        filter_key("Filter services and edges by name"),
        sort_key("Sort by 5xx share, by requests/s, by name"),
        Binding("w", "cycle_window", "Window", tooltip="The rate window: 1m, 5m, 15m", id="cycle_window"),
        Binding(
            "p",
            "show_queries",
            "PromQL",
            tooltip="Each column's PromQL, to paste into Prometheus, and how it is sent",
            id="show_queries",
        ),
        Binding(
            "enter",
            "open_row",
            "Proxies",
            tooltip="A service: its pods; an edge: the calling pod's cluster for that destination",
            id="open_row",
        ),
        refresh_key("Ask Prometheus now"),
    ]

    def __init__(self, options: Options, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.options = options
        self.access: MeshAccess | None = None
        self.connected = False
        self.window = WINDOWS[0]
        self.last: MeshUpdate | None = None
        self._telling = False

    def compose(self) -> ComposeResult:
        yield FilterBox(
            back_to=lambda: self.table, hides=True, placeholder="filter by name", id="mesh-filter"
        )
        yield StateLine("waiting for the cluster ...", id="mesh-state")
        yield MeshTable(id="mesh-table")

    @property
    def table(self) -> MeshTable:
        return self.query_one(MeshTable)

    def export_fields(self) -> dict[str, object]:  # ui/export.py
        return {"window": self.window, "rows": [self.table.record(k) for k in self.table.rows]}

    # -- the place protocol --------------------------------------------------------------

    def connect(self, access: MeshAccess | None) -> None:
        self.access, self.connected = access, True
        if access is None and not self.options.prometheus:
            self._state(NO_CLUSTER, error=True)
            return
        self._state(f"looking for Prometheus ({self._source().describe()}) ...")
        if self.shown:
            self._start()

    def set_shown(self, shown: bool) -> None:
        super().set_shown(shown)
        if shown and self.feed is None and self.connected and (self.access or self.options.prometheus):
            self._start()  # Prometheus is looked for when the place is first shown

    def on_place_opened(self, **arguments: object) -> None:
        self.call_after_refresh(self.table.focus)

    def _source(self) -> PrometheusSource:
        if self.options.prometheus:
            return DirectPrometheus(self.options.prometheus)
        assert self.access is not None
        return ForwardedPrometheus(self.access.target, self.access.manager, self.options.prometheus_service)

    def _start(self) -> None:
        try:
            source = self._source()
        except PrometheusError as exc:  # a malformed --prometheus-service
            self._state(str(exc), error=True)
            return
        interval = max(self.options.interval, INTERVAL_S)
        self.start_feed(MeshFeed(source, interval, self.window))

    # -- the feed --------------------------------------------------------------------------

    async def updated(self, update: MeshUpdate) -> MeshUpdated:
        return MeshUpdated(update)

    @on(MeshUpdated)
    def _on_update(self, message: MeshUpdated) -> None:
        u: MeshUpdate = message.update
        show_freshness(u.freshness, self.table)
        if u.error:
            self._state(stale_line(u.freshness, u.error), error=True)
            return
        self.last = u
        if not u.services and not u.edges:
            self._state(
                f"Prometheus ({u.where}) has no istio_requests_total in the last {u.window}: "
                "no traffic, or no Istio standard metrics scraped"
            )
        else:
            every = self.feed.interval if self.feed and self.feed.interval else INTERVAL_S
            self._state(
                f"{len(u.services)} services, {len(u.edges)} edges from Prometheus ({u.where}), "
                f"{u.window} window, sorted by {self.table.sort}, every {every:g}s, {u.fetch_ms:.0f} ms"
            )
        self._show(u)

    def _show(self, update: MeshUpdate) -> None:
        self.table.show(update)
        self._tell_on_screen()  # sorted or filtered, other edges are on screen

    @on(MeshTable.Viewport)
    def _viewport(self) -> None:
        if not self._telling:  # a burst of scrolling tells the feed once, when it settles
            self._telling = True
            self.set_timer(VIEWPORT_SETTLE_S, self._tell_on_screen)

    def _tell_on_screen(self) -> None:
        self._telling = False
        if isinstance(self.feed, MeshFeed):
            self.feed.want_latency(self.table.on_screen())

    def _state(self, text: str, error: bool = False) -> None:
        self.query_one("#mesh-state", StateLine).say(text, error)

    # -- keys ------------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one(FilterBox).open()

    @on(Input.Changed, "#mesh-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.text_filter = event.value.strip()
        if self.last is not None:
            self._show(self.last)

    def action_cycle_sort(self) -> None:
        self.table.sort = next_sort(SORTS, self.table.sort)
        if self.last is not None:
            self._show(self.last)

    def action_cycle_window(self) -> None:
        self.window = next_sort(WINDOWS, self.window)
        if isinstance(self.feed, MeshFeed):
            self.feed.set_window(self.window)
        self._state(f"asking Prometheus over a {self.window} window ...")

    def action_show_queries(self) -> None:
        self.app.push_screen(QueriesScreen(self.window))

    def action_open_row(self) -> None:
        row = self.table.by_key.get(self.table.current or "")
        if row is None:
            return
        if not row.source:  # a service: its pods, by the service's name
            self.post_message(OpenPlace(PROXIES, {"pods_filter": row.destination.split(".")[0]}))
            return
        self._open_edge(row.source, row.source_namespace, row.destination)

    @work(exclusive=True, group="mesh-open", exit_on_error=False)
    async def _open_edge(self, workload: str, namespace: str, destination: str) -> None:
        if self.access is None:
            self.notify("no cluster: the calling pod cannot be found", severity="warning")
            return
        try:  # Istio's workloads carry their app label (the demo's, the seed's)
            target = self.access.target
            pods = await running_pods(target, namespace, f"app={workload}", PrometheusError, workload)
        except PrometheusError as exc:
            self.notify(str(exc), severity="warning")
            return
        if not pods:
            self.notify(f"no running pod of {workload} in {namespace} (app={workload})", severity="warning")
            return
        self.post_message(ShowPod(namespace, pods[0].metadata.name, "tab-clusters", find=destination))
