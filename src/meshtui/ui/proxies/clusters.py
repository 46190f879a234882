"""The clusters pane: one row per Envoy cluster, its endpoints below, a jump to its stats.

Both tables are keyed DataTables (clusters by name, endpoints by address) updated
cell by cell, so cursor and scroll survive every refresh. It owns the worker that
polls `/clusters?format=json`; the app pauses it while the tab is hidden.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from meshtui.envoy.clusters import ERROR_WINDOW_S, NAME_COLUMNS, ClustersSnapshot, ClusterStatus, name_cells
from meshtui.envoy.clusters_feed import ClustersFeed, ClustersUpdate
from meshtui.envoy.faults import Fault
from meshtui.envoy.live import AdminEndpoint
from meshtui.live import Freshness
from meshtui.ui.export import table_rows
from meshtui.ui.format import middle_truncate, rate
from meshtui.ui.messages import OpenPlace
from meshtui.ui.proxies.messages import ClustersUpdated, ShowStats
from meshtui.ui.stale import show_freshness, stale_line
from meshtui.ui.widgets.columns import GiveWay, fit_columns
from meshtui.ui.widgets.filter_box import FilterBox
from meshtui.ui.widgets.keys import filter_key, next_sort, refresh_key, sort_key
from meshtui.ui.widgets.live_view import LiveView
from meshtui.ui.widgets.rows_view import RowsView
from meshtui.ui.widgets.state_line import StateLine
from meshtui.ui.widgets.table import Table

CLUSTER_COLUMNS = (
    *NAME_COLUMNS,
    "RQ/S",
    f"ERR/S {ERROR_WINDOW_S:g}s",  # errors are smoothed over this window (envoy/clusters.py)
    "ERR %",
    "RQ TOTAL",
    "CX",
)
HOST_COLUMNS = ("ADDRESS", "HEALTH", "WEIGHT", "LOCALITY", "RQ TOTAL", "RQ/S", "ERRORS", "RQ ACTIVE", "CX")
SORTS = ("name", "rate", "errors")
# RQ/S, ERR/S and ERR % come from the endpoints' own counters (rq_total, rq_error: 5xx
# answers and connection failures): a request a fault filter aborts or a route answers
# directly never reaches an endpoint, so it is in none of them (its 503 shows on the
# caller's inbound row and in http.*.fault.aborts_injected)
FAULT_MARK = "⚠ "
COUNTED = " · endpoint counts, no fault aborts"  # fits beside a pod's name at 160 columns


def _rate(value: float | None) -> str:
    return rate(value) if value else ""


def _pct(value: float | None) -> str:
    if not value:
        return ""
    return f"{value:.0f}%" if value >= 10 else f"{value:.1f}%"


def cluster_row(c: ClusterStatus, snap: ClustersSnapshot) -> tuple[str, ...]:
    return (
        *name_cells(c),
        _rate(snap.rq_rate.get(c.name)),
        _rate(snap.error_rate.get(c.name)),
        _pct(snap.error_pct.get(c.name)),
        str(c.total("rq_total")),
        str(c.total("cx_active")),
    )


class ClustersTable(RowsView):
    """Clusters as a Line-API view: 2,000 clusters refresh and filter without per-row widgets."""

    WIDTHS = (None, 5, 6, 9, 7, 9, 11, 6, 8, 4)  # None: the FQDN takes what is left

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.snapshot: ClustersSnapshot | None = None
        self.sort = "name"
        self.faults: Mapping[str, Fault] = {}  # cluster -> the fault its routes apply
        self._layout: tuple[int, ClustersSnapshot | None, list[int]] | None = None

    MIN_NAME = 20

    def _widths(self, width: int) -> list[int]:
        """Column widths for this width, 0 for a column that gave way. SUBSET (when no
        cluster has one) and DIRECTION (inbound|... says it) go before a service name is
        shortened; then CX, PORT and ERR/S before it gets under 20. At 80 columns the
        numbers stay whole."""
        snap = self.snapshot
        clusters = snap.clusters if snap is not None else ()
        if self._layout is not None and self._layout[0] == width and self._layout[1] is snap:
            return self._layout[2]
        names = [
            (FAULT_MARK if c.name in self.faults else "")
            + (c.istio.service or c.name).removesuffix(".svc.cluster.local")
            for c in clusters
        ]
        wants = [max([12, *map(len, names)]), *(w or 0 for w in self.WIDTHS[1:])]
        no_subsets = not any(c.istio.subset for c in clusters)
        steps = [
            GiveWay(2, 0, for_whole=no_subsets),
            GiveWay(3, 0, for_whole=True),
            GiveWay(2, 0),
            GiveWay(9, 0),
            GiveWay(1, 0),
            GiveWay(6, 0),
        ]
        widths = fit_columns(width, wants, steps, flex=0, flex_min=self.MIN_NAME)
        widths[0] = max(widths[0], min(self.MIN_NAME, width))
        self._layout = (width, snap, widths)
        return widths

    def header_text(self, width: int) -> str:
        # the sorted column carries the arrow: the sort is on screen, not only in a toast
        marked = {"name": (0, " ▲"), "rate": (5, " ▼"), "errors": (6, " ▼")}[self.sort]
        labels = [c + (marked[1] if i == marked[0] else "") for i, c in enumerate(CLUSTER_COLUMNS)]
        return " ".join(
            _fit(c, w, i) for i, (c, w) in enumerate(zip(labels, self._widths(width), strict=True)) if w
        )

    def row_segments(self, key: str, width: int) -> list[Segment]:
        cluster = self.snapshot.by_name(key) if self.snapshot else None
        if cluster is None or self.snapshot is None:
            return []
        cells = list(cluster_row(cluster, self.snapshot))  # only for the rows on screen
        fault = self.faults.get(key)
        if fault is not None:
            # its requests are answered by the caller's fault filter: the row says so
            cells[0] = FAULT_MARK + cells[0]
        out = []
        for i, (cell, w) in enumerate(zip(cells, self._widths(width), strict=True)):
            if not w:
                continue  # gave way on a narrow screen
            style = Style()
            if i == 0 and fault is not None:
                style = self.style_of("rows-view--bad", partial=True)
            elif i == 4 and cell.split("/")[0] != cell.split("/")[-1]:
                style = self.style_of("rows-view--bad", partial=True)  # unhealthy endpoints
            elif i in (6, 7) and cell:
                style = self.style_of("rows-view--bad", partial=True)  # errors moving
            elif i == 5 and cell:
                style = self.style_of("rows-view--good", partial=True)
            out.append(Segment(_fit(cell, w, i) + " ", style))
        return out


def _fit(text: str, width: int, column: int) -> str:
    """Left-align names, right-align numbers; cut long FQDNs in the middle."""
    if column == 0:
        if len(text) > width:  # every in-mesh FQDN ends the same: drop that first
            text = text.removesuffix(".svc.cluster.local")
        return middle_truncate(text, width).ljust(width)
    return text[:width].rjust(width) if column >= 5 else text[:width].ljust(width)


class ClustersPane(LiveView):
    status_name = "clusters"

    BINDINGS = [
        filter_key("Filter clusters by name (substring)"),
        sort_key("Sort clusters by name, by request rate, by error rate"),
        Binding(
            "s", "show_stats", "Stats", tooltip="Show this cluster's stats (cluster.<name>.)", id="show_stats"
        ),
        refresh_key("Poll the sidecar now"),
        Binding(
            "T",
            "traces",
            "Traces",
            tooltip="Traces that went to this cluster (span tag upstream_cluster)",
            id="traces",
        ),
    ]

    def __init__(self, interval: float = 1.0, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.interval = interval
        self.endpoint_label = ""
        self.last: ClustersUpdate | None = None
        self.sort = "name"
        self.text_filter = ""
        self._hosts_for: str | None = None
        self.aborts_injected = 0  # the fault filters' aborts, summed over connection managers

    def compose(self) -> ComposeResult:
        yield FilterBox(
            back_to=lambda: self.table, placeholder="filter clusters: part of the name", id="clusters-filter"
        )
        yield StateLine("Select a pod with a sidecar to see its clusters.", id="clusters-state")
        yield ClustersTable(id="clusters-table")
        yield Static("", id="endpoints-title")
        hosts: DataTable[str] = Table(id="endpoints-table", cursor_type="row")
        for col in HOST_COLUMNS:
            hosts.add_column(col, key=col)
        yield hosts

    @property
    def table(self) -> ClustersTable:
        return self.query_one(ClustersTable)

    @property
    def hosts(self) -> Table:
        return self.query_one("#endpoints-table", Table)

    # -- feed --------------------------------------------------------------------------

    def attach(self, new_endpoint: Callable[[], AdminEndpoint]) -> None:
        endpoint = new_endpoint()
        self.endpoint_label = endpoint.label
        self.last = None
        self._clear()
        self._state(f"connecting to {endpoint.label} ...")
        self.start_feed(ClustersFeed(endpoint, self.interval))  # polled only while the tab is shown

    def detach(self, why: str, *, keep: bool = False) -> None:
        self.stop_feed()
        if keep and self.table.snapshot is not None:
            self.table.snapshot = self.table.snapshot.without_changes()
            self.table.refresh()
            show_freshness(Freshness(stale_since=time.time(), reason=why), self.table, self.hosts)
            self._state(why, error=True)
            return
        self._clear()
        self._state(why)

    async def updated(self, update: ClustersUpdate) -> ClustersUpdated:
        return ClustersUpdated(update)

    @on(ClustersUpdated)
    def _on_update(self, message: ClustersUpdated) -> None:
        update = message.update
        if self.feed is None or update.endpoint != self.endpoint_label:
            return
        self.last = update
        show_freshness(update.freshness, self.table, self.hosts)
        if update.error:
            # the last clusters stay, dimmed, without rates: nothing here is live
            snap = self.table.snapshot
            if snap is not None and (snap.rq_rate or snap.error_rate or snap.host_rq_rate or snap.error_pct):
                self.table.snapshot = snap.without_changes()  # rows keep their order
                self.table.repaint_changed()
                self._show_hosts(self.table.snapshot)
            self._state(stale_line(update.freshness, update.error), error=True)
            return
        assert update.snapshot is not None
        self.table.faults = update.faults
        self.aborts_injected = update.aborts_injected or 0
        self._show(update.snapshot)

    # -- drawing -----------------------------------------------------------------------

    def _clear(self) -> None:
        self.table.snapshot = None
        self.table.set_rows([])
        self.hosts.clear()
        self._hosts_for = None
        self.query_one("#endpoints-title", Static).update("")

    def _visible(self, snap: ClustersSnapshot) -> list[ClusterStatus]:
        text = self.text_filter.lower()
        shown = [c for c in snap.clusters if not text or text in c.name.lower()]
        if self.sort == "rate":
            shown.sort(key=lambda c: (-snap.rq_rate.get(c.name, 0.0), c.name))
        elif self.sort == "errors":
            # the windowed rate, rounded: rows do not trade places on one poll's noise
            shown.sort(
                key=lambda c: (-round(snap.error_rate.get(c.name, 0.0), 1), -c.total("rq_error"), c.name)
            )
        else:
            shown.sort(key=lambda c: (c.istio.service or c.name, c.istio.port, c.istio.subset, c.name))
        return shown

    def _show(self, snap: ClustersSnapshot) -> None:
        table = self.table
        shown = self._visible(snap)
        table.snapshot = snap
        table.set_rows([c.name for c in shown])  # the cursor stays on its cluster
        unhealthy = sum(1 for c in snap.clusters if c.healthy < len(c.hosts))
        note = f", {unhealthy} with unhealthy endpoints" if unhealthy else ""
        if snap.window_s < ERROR_WINDOW_S:  # since the tab was shown (or the source came back)
            note += f" · warming up: errors over {snap.window_s:.0f} of {ERROR_WINDOW_S:g} s"
        line = f"{len(shown)} of {len(snap.clusters)} clusters from {self.endpoint_label}{note}"
        faulted = [c for c in shown if c.name in self.table.faults]
        if faulted:  # (which says what COUNTED says)
            # first, and wrapped like an error (a narrow screen cut it after `50%`): the
            # clusters' own counters do not see these requests
            self._state(f"{FAULT_MARK}{self._fault_line(faulted[0].name)} · {line}", error=True)
        else:
            self._state(line + COUNTED)
        self._show_hosts(snap)

    def _fault_line(self, cluster: str) -> str:
        """`fault filter: 100% aborted with 503 (route 80 / catalog...:80), 42 aborts injected`"""
        fault = self.table.faults[cluster]
        # the filters' counters are per connection manager, not per route: a total
        counts = f"; {self.aborts_injected} aborts injected" if fault.abort_pct else ""
        return f"fault filter: {fault.summary} on route {fault.route}{counts}"

    def _show_hosts(self, snap: ClustersSnapshot) -> None:
        name = self.current
        cluster = snap.by_name(name) if name else None
        title = self.query_one("#endpoints-title", Static)
        hosts = self.hosts
        if cluster is None:
            hosts.clear()
            self._hosts_for = None
            title.update("")
            return
        # rows are diffed by address even across clusters: no clear, no re-layout per cursor move
        self._hosts_for = name
        text = Text.assemble(
            "endpoints of ", (cluster.name, "bold"), f"  ({cluster.healthy}/{len(cluster.hosts)} healthy)"
        )
        if cluster.name in self.table.faults:
            text.append(f"  {FAULT_MARK}{self._fault_line(cluster.name)}", style="bold red")
        title.update(text)
        want = {
            h.address: (
                h.address,
                h.health,
                str(h.weight),
                h.locality,
                str(h.get("rq_total")),
                _rate(snap.host_rq_rate.get((cluster.name, h.address))),
                str(h.get("rq_error")),
                str(h.get("rq_active")),
                str(h.get("cx_active")),
            )
            for h in cluster.hosts
        }
        hosts.sync(want)

    @property
    def current(self) -> str | None:
        return self.table.current

    # -- export (ui/export.py) ---------------------------------------------------------

    def export_fields(self) -> dict[str, object]:
        snap = self.table.snapshot
        rows = []
        for name in self.table.rows:
            cluster = snap.by_name(name) if snap is not None else None
            if cluster is not None and snap is not None:
                cells = cluster_row(cluster, snap)
                rows.append({"cluster": name, **dict(zip(CLUSTER_COLUMNS, cells, strict=True))})
        return {"rows": rows, "endpoints": {"cluster": self.current, "rows": table_rows(self.hosts)}}

    def row_text(self, key: str) -> str:
        return key

    def _state(self, text: str, error: bool = False) -> None:
        self.query_one("#clusters-state", StateLine).say(text, error)

    # -- keys --------------------------------------------------------------------------

    @on(RowsView.Highlighted, "#clusters-table")
    def _highlighted(self) -> None:
        if self.last and self.last.snapshot:
            self._show_hosts(self.last.snapshot)

    def show_filter(self, text: str) -> None:
        """Set the filter as if typed (the Mesh place's `enter` on an edge)."""
        self.query_one(FilterBox).value = text

    @on(Input.Changed, "#clusters-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.text_filter = event.value.strip()
        if self.last and self.last.snapshot:
            self._show(self.last.snapshot)

    def action_focus_filter(self) -> None:
        self.query_one(FilterBox).open()

    def action_cycle_sort(self) -> None:
        self.sort = next_sort(SORTS, self.sort)
        if self.last and self.last.snapshot:
            self._show(self.last.snapshot)
        self._show_sort()

    def _show_sort(self) -> None:
        self.table.sort = self.sort
        self.table.repaint_changed()

    def action_show_stats(self) -> None:
        if self.current:
            self.post_message(ShowStats(self.current))

    def action_traces(self) -> None:
        if self.current:
            self.post_message(OpenPlace("traces", {"upstream_cluster": self.current}))
