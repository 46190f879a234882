"""Every replica's figure for each stat, one column per pod and a total: a Line-API table
(a wide filter gives thousands of rows times the replicas), scrolled sideways when the
columns do not fit. The first two rows are what each replica served (requests/s and 5xx
share over the window); the replica that stands out is marked in the header, and per
stat the cell furthest from the others' median is drawn as a finding.
"""

from __future__ import annotations

import os

from rich.segment import Segment
from textual.strip import Strip

from meshtui.replicas.feed import Replica, ReplicasUpdate
from meshtui.replicas.read import ERR, HEALTHY, HOSTS, RQ, summed
from meshtui.ui.format import middle_truncate
from meshtui.ui.widgets.rows_view import RowsView

SERVED_ROW, ERRORS_ROW = "\x00served", "\x00errors"  # sort before every stat name
# what a cluster's cell shows (`v` cycles): its figure's name in the header
CLUSTER_FIGURES = {
    RQ: "requests/s",
    ERR: "errors % (5xx, failed connections)",
    HEALTHY: "healthy/all endpoints",
}
NAME_MIN, NAME_MAX, CELL = 22, 60, 10


def short_names(pods: list[str]) -> dict[str, str]:
    """Each pod's name less what all share (`catalog-6cf4b97d-`), for narrow columns."""
    if len(pods) < 2:
        return {p: p for p in pods}
    common = os.path.commonprefix(pods)  # noqa: RUF071 - names, not paths: characters is the point
    cut = common.rfind("-") + 1  # whole dash-separated words only
    return {p: p[cut:] or p for p in pods}


def figure(value: float | None, rate: bool) -> str:
    if value is None:
        return "-"
    if rate:
        return f"{value:.3g}/s" if value else "0/s"
    return f"{value:,.0f}" if abs(value) < 1e12 else f"{value:.3g}"


class ReplicasTable(RowsView):
    DEFAULT_CSS = "ReplicasTable { overflow-x: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.update: ReplicasUpdate | None = None
        self.rates = True  # counters as per-second rates (v: their values)
        self.figure = RQ  # in the clusters mode: which figure a cell shows (v cycles)
        self.pods: list[str] = []
        self.short: dict[str, str] = {}
        self.name_width = NAME_MIN
        self.cell = CELL

    def show(self, update: ReplicasUpdate) -> None:
        self.update = update
        self.pods = [r.pod for r in update.replicas]
        self.short = short_names(self.pods)
        self.cell = max(CELL, *(len(s) + 2 for s in self.short.values()))
        self._fit(update)
        self.set_rows([SERVED_ROW, ERRORS_ROW, *update.names])
        self.repaint_changed()

    def _fit(self, update: ReplicasUpdate) -> None:
        """The name column as wide as the longest name, but giving way to the replicas'
        columns on a narrow terminal (names are shortened in the middle) down to NAME_MIN."""
        longest = max((len(n) for n in update.names), default=0)
        room = self.scrollable_content_region.width - (self.cell + 1) * (len(self.pods) + 1) - 1
        self.name_width = max(NAME_MIN, min(NAME_MAX, longest, room))

    def on_resize(self) -> None:
        if self.update is not None:
            self._fit(self.update)
            self.refresh()

    def line_width(self) -> int:
        wanted = self.name_width + 1 + (self.cell + 1) * (len(self.pods) + 1)
        return max(wanted, self.scrollable_content_region.width)

    def crop_to_view(self, strip: Strip) -> Strip:
        x = int(self.scroll_x)
        return strip.crop(x, x + self.scrollable_content_region.width)

    def header_text(self, width: int) -> str:
        u = self.update
        marks = []
        for pod in self.pods:
            replica = self._replica(pod)
            mark = "✗ " if u is not None and u.outlier == pod else ("? " if replica and replica.error else "")
            marks.append((mark + self.short.get(pod, pod)).rjust(self.cell))
        if u is not None and u.clusters:
            what = f"CLUSTER ({CLUSTER_FIGURES[self.figure]})"
        else:
            what = "STAT (counters per second)" if self.rates else "STAT (values)"
        return " ".join([what.ljust(self.name_width), *marks, "TOTAL".rjust(self.cell)])

    def _replica(self, pod: str) -> Replica | None:
        u = self.update
        return next((r for r in u.replicas if r.pod == pod), None) if u is not None else None

    def cells(self, key: str) -> list[str]:
        """A row's cells as text: the name, each replica's figure, the total."""
        u = self.update
        if u is None:
            return []
        replicas = [self._replica(p) for p in self.pods]
        if key == SERVED_ROW:
            figures = [r.served_rps if r and not r.error else None for r in replicas]
            known = [f for f in figures if f is not None]
            served = figure(sum(known), True) if known else "-"
            return ["served (30 s)", *(figure(f, True) for f in figures), served]
        if key == ERRORS_ROW:
            return [
                "5xx % of them (30 s)",
                *(f"{r.error_pct:.1f}%" if r and r.error_pct is not None else "-" for r in replicas),
                "",
            ]
        if u.clusters:
            return self._cluster_cells(key, replicas)
        is_counter = key in u.counters
        rate = self.rates and is_counter
        out = [middle_truncate(key, self.name_width)]
        for r in replicas:
            if r is None or r.error:
                out.append("-")
            elif rate:
                out.append(figure(r.rates.get(key), True))
            else:
                out.append(figure(r.values.get(key), False))
        whole: float | None
        if rate:
            whole = u.total_rates.get(key) if u.total_rates else None
        else:
            whole = u.total.get(key) if summed(key, is_counter) else None
        out.append(figure(whole, rate))
        return out

    def _cluster_cells(self, key: str, replicas: list[Replica | None]) -> list[str]:
        out = [middle_truncate(key, self.name_width)]
        live = [r for r in replicas if r is not None and not r.error]
        if self.figure == HEALTHY:
            for r in replicas:
                ok = r is not None and not r.error and key + HEALTHY in r.values
                out.append(f"{r.values[key + HEALTHY]}/{r.values[key + HOSTS]}" if r and ok else "-")
            return [*out, ""]  # every replica sees the same endpoints: no sum
        rq = [r.rates.get(key + RQ) if r is not None and not r.error else None for r in replicas]
        if self.figure == RQ:
            known = [x for x in rq if x is not None]
            return [*out, *(figure(x, True) for x in rq), figure(sum(known), True) if known else "-"]
        for r, q in zip(replicas, rq, strict=True):
            e = r.rates.get(key + ERR) if r is not None and not r.error else None
            out.append(f"{100 * e / q:.1f}%" if e is not None and q else "-")
        all_rq = sum(r.rates.get(key + RQ, 0.0) for r in live)
        all_err = sum(r.rates.get(key + ERR, 0.0) for r in live)
        return [*out, f"{100 * all_err / all_rq:.1f}%" if all_rq else "-"]

    def row_segments(self, key: str, width: int) -> list[Segment]:
        cells = self.cells(key)
        if not cells:
            return []
        u = self.update
        if u is None:
            marked = None
        elif key in (SERVED_ROW, ERRORS_ROW):
            marked = u.outlier
        else:
            marked = u.deviant.get(key + self.figure if u.clusters else key)
        bad = self.style_of("rows-view--bad")
        segments = [Segment(cells[0].ljust(self.name_width))]
        for pod, text in zip(self.pods, cells[1:-1], strict=True):
            segments.append(Segment(" " + text.rjust(self.cell), bad if pod == marked else None))
        segments.append(Segment(" " + cells[-1].rjust(self.cell)))
        return segments

    def record(self, key: str) -> dict[str, str]:
        """A row as the export writes it (ui/export.py)."""
        cells = self.cells(key)
        return dict(zip(["stat", *self.pods, "total"], cells, strict=False))
