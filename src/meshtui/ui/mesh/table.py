"""The Mesh place's rows: each service, then each edge (source workload -> destination
service), with requests/s, 5xx and 4xx shares, P50/P90/P99 and a sparkline of requests/s,
as a Line-API table keyed by row (a mesh of 500 services and thousands of edges).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.segment import Segment
from textual.events import Resize
from textual.message import Message

from meshtui.prometheus.feed import MeshRow, MeshUpdate
from meshtui.prometheus.queries import Edge
from meshtui.ui.format import middle_truncate
from meshtui.ui.widgets.rows_view import RowsView

SORTS = ("errors", "rate", "name")
SERVICES_HEAD, EDGES_HEAD = "\x00services", "\x00edges"
BLOCKS = "▁▂▃▄▅▆▇█"
COLUMNS = (("RPS", 7), ("5XX %", 6), ("4XX %", 6), ("P50 ms", 7), ("P90 ms", 7), ("P99 ms", 7))
FIGURES = ("rps", "error_pct", "client_error_pct", "p50_ms", "p90_ms", "p99_ms")
TREND_W = 16
ERROR_PCT_BAD = 1.0  # a 5xx share drawn as a finding from here


def short(service: str) -> str:
    return service.removesuffix(".svc.cluster.local")


def name_of(row: MeshRow) -> str:
    """`catalog.istioinaction`; an edge `webapp → catalog` (a namespace said where the two
    differ: `istio-ingressgateway.istio-system → webapp.istioinaction`)."""
    if not row.source:
        return short(row.destination)
    dest = short(row.destination)
    name, _, namespace = dest.partition(".")
    if namespace == row.source_namespace:
        return f"{row.source} → {name}"
    return f"{row.source}.{row.source_namespace} → {dest}"


def spark(values: Sequence[float], width: int = TREND_W) -> str:
    points = list(values[-width:])
    known = [v for v in points if not math.isnan(v)]
    if not known:
        return ""
    top = max(known) or 1.0
    return "".join(" " if math.isnan(v) else BLOCKS[min(7, int(v / top * 7.999))] for v in points)


def cell(value: float | None, asked: bool = True) -> str:
    if not asked:
        return "·"  # an edge's latency is asked for the rows on screen (prometheus/queries.py)
    if value is None:
        return "-"
    return f"{value:.3g}" if value < 1000 else f"{value:,.0f}"


def ordered(rows: Sequence[MeshRow], sort: str, names: dict[str, str] | None = None) -> list[MeshRow]:
    """By name; by requests/s then name; by 5xx share then requests/s then name. As stable
    sorts one key at a time: at 10,000 edges a tuple key per row took 3x as long."""
    known = {} if names is None else names
    out = sorted(rows, key=lambda r: known.get(r.key) or name_of(r))
    if sort == "name":
        return out
    out.sort(key=lambda r: r.figures.get("rps") or 0.0, reverse=True)  # reverse keeps ties' order
    if sort == "errors":
        out.sort(key=lambda r: r.figures.get("error_pct") or 0.0, reverse=True)
    return out


class MeshTable(RowsView):
    class Viewport(Message):
        """Other rows are on screen (scrolled, resized): their edges' latency is wanted."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.by_key: dict[str, MeshRow] = {}
        self.sort = "errors"
        self.text_filter = ""
        self.update: MeshUpdate | None = None
        self._names: dict[str, str] = {}  # key -> name_of: the keys outlive a refresh
        self._lower: dict[str, str] = {}  # key -> the name in lower case, for `/`

    def show(self, update: MeshUpdate) -> None:
        self.update = update
        names = self._names
        if len(names) > 4 * (len(update.services) + len(update.edges)) + 1000:
            names.clear()  # rows come and go (a window change, pods replaced): bounded
            self._lower.clear()
        for r in (*update.services, *update.edges):
            if r.key not in names:
                names[r.key] = name_of(r)
        want = self.text_filter.lower()
        rows = (*update.services, *update.edges)
        if want:
            lower = self._lower
            for r in rows:
                if r.key not in lower:
                    lower[r.key] = names[r.key].lower()
            keep = [r for r in rows if want in lower[r.key]]
        else:
            keep = list(rows)
        self.by_key = {r.key: r for r in keep}
        services = [r.key for r in ordered([r for r in keep if not r.source], self.sort, names)]
        edges = [r.key for r in ordered([r for r in keep if r.source], self.sort, names)]
        self.set_rows([SERVICES_HEAD, *services, EDGES_HEAD, *edges], keep=self.current)
        self.repaint_changed()

    def on_screen(self) -> frozenset[Edge]:
        """The edges of the rows on screen."""
        top, body = int(self.scroll_y), max(self.size.height - 1, 0)
        rows = (self.by_key.get(k) for k in self.rows[top : top + body])
        return frozenset(r.edge for r in rows if r is not None and r.source)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.post_message(self.Viewport())

    def on_resize(self, event: Resize) -> None:
        self.post_message(self.Viewport())

    @staticmethod
    def _trend_width(width: int) -> int:
        return TREND_W if width >= 120 else 5  # a narrow terminal gives the names the room

    def _name_width(self, width: int) -> int:
        return max(20, width - sum(w + 1 for _, w in COLUMNS) - self._trend_width(width) - 2)

    def header_text(self, width: int) -> str:
        figures = " ".join(label.rjust(w) for label, w in COLUMNS)
        window = self.update.window if self.update else ""
        trend = f"RPS, {window}" if self._trend_width(width) == TREND_W else "RPS"
        return f"{'SERVICE / EDGE':<{self._name_width(width)}} {figures}  {trend}"

    def row_segments(self, key: str, width: int) -> list[Segment]:
        name_w = self._name_width(width)
        if key in (SERVICES_HEAD, EDGES_HEAD):
            text = (
                "services (what their sidecars report: reporter=destination)"
                if key == SERVICES_HEAD
                else "edges, source workload → destination service (what the caller reports: reporter=source)"
            )
            return [Segment(text, self.style_of("rows-view--dim"))]
        row = self.by_key.get(key)
        if row is None:
            return []
        segments = [Segment(middle_truncate(name_of(row), name_w).ljust(name_w))]
        for (_, w), figure in zip(COLUMNS, FIGURES, strict=True):
            value = row.get(figure)
            bad = figure == "error_pct" and value is not None and value >= ERROR_PCT_BAD
            style = self.style_of("rows-view--bad") if bad else None
            segments.append(Segment(" " + cell(value, row.asked(figure)).rjust(w), style))
        trend = spark(row.trend, self._trend_width(width))
        segments.append(Segment("  " + trend, self.style_of("rows-view--good")))
        return segments

    def record(self, key: str) -> dict[str, object]:
        row = self.by_key.get(key)
        return row.as_json() if row is not None else {"section": key.strip("\x00")}
