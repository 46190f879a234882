"""The Mesh place's rows: each service, then each edge (source workload -> destination
service), with requests/s, 5xx and 4xx shares, P50/P90/P99 and a sparkline of requests/s,
as a Line-API table keyed by row (a mesh of 500 services and thousands of edges).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.segment import Segment

from meshtui.prometheus.feed import MeshRow, MeshUpdate
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


def cell(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if value < 1000 else f"{value:,.0f}"


def ordered(rows: Sequence[MeshRow], sort: str) -> list[MeshRow]:
    if sort == "name":
        return sorted(rows, key=name_of)
    figure = "error_pct" if sort == "errors" else "rps"
    return sorted(rows, key=lambda r: (-(r.get(figure) or 0.0), -(r.get("rps") or 0.0), name_of(r)))


class MeshTable(RowsView):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.by_key: dict[str, MeshRow] = {}
        self.sort = "errors"
        self.text_filter = ""
        self.update: MeshUpdate | None = None

    def show(self, update: MeshUpdate) -> None:
        self.update = update
        want = self.text_filter.lower()
        keep = [r for r in (*update.services, *update.edges) if not want or want in name_of(r).lower()]
        self.by_key = {r.key: r for r in keep}
        services = [r.key for r in ordered([r for r in keep if not r.source], self.sort)]
        edges = [r.key for r in ordered([r for r in keep if r.source], self.sort)]
        self.set_rows([SERVICES_HEAD, *services, EDGES_HEAD, *edges], keep=self.current)
        self.repaint_changed()

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
            segments.append(Segment(" " + cell(value).rjust(w), style))
        trend = spark(row.trend, self._trend_width(width))
        segments.append(Segment("  " + trend, self.style_of("rows-view--good")))
        return segments

    def record(self, key: str) -> dict[str, object]:
        row = self.by_key.get(key)
        return row.as_json() if row is not None else {"section": key.strip("\x00")}
