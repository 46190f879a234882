"""The pods list as a Line-API view: only the rows on screen are painted.

A DataTable measures every cell of every row to lay out its columns (80,000 `measure`
calls for 10,000 pods: ~5 s before the list showed, 130 ms a cursor key under a busy
watch). Here the rows are keys, the cells are kept per pod and worked out again only
when that pod changes, and the column widths come from the cells' lengths.

Columns are sized to their content and to the pane (ui/widgets/columns.py): when the
pane is narrow, IP goes and RESTARTS becomes RST so names stay whole; then NAMESPACE,
AGE and SIDECAR give way before a name gets under 16 characters. A long name is
shortened in its middle, so what a user reads when a pod fails stays on screen -- the
name's own suffix (which tells replicas apart), READY, STATUS and RESTARTS.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual.events import Click
from textual.message import Message

from meshtui.kube.pods import PodInfo, age
from meshtui.ui.format import SELECTED, short_pod_name
from meshtui.ui.widgets.columns import GiveWay, fit_columns
from meshtui.ui.widgets.rows_view import RowsView

# NAME first: it is what a narrow pane must still show
COLUMNS = ("NAME", "READY", "STATUS", "SIDECAR", "RESTARTS", "AGE", "NAMESPACE", "IP")
NAME, READY, STATUS, SIDECAR, RESTARTS, AGE, NAMESPACE, IP = range(len(COLUMNS))
SHORT_RESTARTS = "RST"  # kubectl's RESTARTS when there is room; this before a name is cut
NAME_MIN = 16  # "catalog-…-5kkz8": the workload's start and the pod's own suffix
AGE_W = 4  # kubectl's AGE is at most 4 characters ("119m", "47h", "365d")
NUMERIC = {RESTARTS, AGE}
GOOD_STATUS = {"Running", "Completed", "Succeeded"}

SIDECAR_DOWN = "✗ not answering"


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


class PodsTable(RowsView):
    """Rows are `namespace/name` keys in the pane's order; cells are painted from `cells`."""

    class Chosen(Message):
        """Enter, or a click on the row under the cursor: show this pod's views."""

        def __init__(self, table: PodsTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> PodsTable:
            return self.table

    def __init__(self, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.pods: dict[str, PodInfo] = {}
        self.cells: dict[str, tuple[str, ...]] = {}
        self._longest = [1] * len(COLUMNS)  # the longest cell per column
        self._longest[AGE] = AGE_W
        self._layout: tuple[int, list[int], list[str]] | None = None  # (pane width, widths, labels)

    # -- rows --------------------------------------------------------------------------

    def set_pods(
        self,
        pods: dict[str, PodInfo],
        cells: dict[str, tuple[str, ...]],
        fresh: list[tuple[str, ...]],
        *,
        remeasure: bool,
    ) -> None:
        """Every pod and its cells, filtered out or not: the columns are sized to all of
        them, so they stay put while a filter is typed. `fresh` holds the cells worked out
        anew (they can only widen a column); `remeasure` when pods went (one may narrow it)."""
        self.pods, self.cells = pods, cells
        if remeasure:
            self._measure()
        else:
            self._widen(fresh)

    def show_rows(self, rows: list[str]) -> None:
        """The rows the filters let through, in order."""
        if len(rows) == len(self.rows) and rows == self.rows:
            self.repaint_changed()
        else:
            self.set_rows(rows)

    def update(self, key: str, pod: PodInfo, cells: tuple[str, ...]) -> None:
        """One row's pod changed (its key and place in the order stay)."""
        self.pods[key] = pod
        self.cells[key] = cells
        self._widen([cells])
        self.repaint_changed()

    def _measure(self) -> None:
        longest = [1] * len(COLUMNS)
        if self.cells:
            longest = [max(map(len, column)) for column in zip(*self.cells.values(), strict=True)]
        longest[AGE] = AGE_W  # worked out as a row is painted
        if longest != self._longest:
            self._longest, self._layout = longest, None

    def _widen(self, fresh: list[tuple[str, ...]]) -> None:
        for cells in fresh:
            for i, cell in enumerate(cells):
                if i != AGE and len(cell) > self._longest[i]:
                    self._longest[i] = len(cell)
                    self._layout = None

    # -- layout ------------------------------------------------------------------------

    def columns_for(self, width: int) -> tuple[list[int], list[str]]:
        """Widths (0: gave way) and labels for a pane `width` columns wide."""
        if self._layout is not None and self._layout[0] == width:
            return self._layout[1], self._layout[2]
        longest = self._longest
        wants = [max(len(label), n) for label, n in zip(COLUMNS, longest, strict=True)]
        steps = [
            GiveWay(IP, 0, for_whole=True),
            GiveWay(RESTARTS, max(len(SHORT_RESTARTS), longest[RESTARTS]), for_whole=True),
            GiveWay(NAMESPACE, 0),
            GiveWay(AGE, 0),
            GiveWay(SIDECAR, 0),
        ]
        widths = fit_columns(width, wants, steps, flex=NAME, flex_min=NAME_MIN)
        labels = list(COLUMNS)
        if 0 < widths[RESTARTS] < len(COLUMNS[RESTARTS]):
            labels[RESTARTS] = SHORT_RESTARTS
        self._layout = (width, widths, labels)
        return widths, labels

    # -- painting ----------------------------------------------------------------------

    def header_text(self, width: int) -> str:
        widths, labels = self.columns_for(width)
        return " ".join(
            _fit(label, w, i) for i, (label, w) in enumerate(zip(labels, widths, strict=True)) if w
        )

    def row_segments(self, key: str, width: int) -> list[Segment]:
        cells = self.cells.get(key)
        pod = self.pods.get(key)
        if cells is None or pod is None:
            return []
        widths, _ = self.columns_for(width)
        bad = self.style_of("rows-view--bad", partial=True)
        sidecar_down = cells[SIDECAR] == SIDECAR_DOWN
        out = []
        for i, w in enumerate(widths):
            if not w:
                continue
            cell = age(self.clock() - pod.created) if i == AGE and pod.created else cells[i]
            style = Style()
            if (
                (i == STATUS and cell not in GOOD_STATUS)
                or (i == READY and _not_ready(cell))
                or (i in (NAME, SIDECAR) and sidecar_down)
            ):
                style = bad
            out.append(Segment(_fit(cell, w, i) + " ", style))
        return out

    def record(self, key: str) -> dict[str, str]:
        """A row as a copy or an export holds it: every column, the name without its ▶."""
        cells = list(self.cells.get(key, ()))
        pod = self.pods.get(key)
        if not cells or pod is None:
            return {}
        cells[NAME] = cells[NAME].removeprefix(SELECTED)
        if pod.created:
            cells[AGE] = age(self.clock() - pod.created)
        return dict(zip(COLUMNS, cells, strict=True))

    # -- choosing ----------------------------------------------------------------------

    def action_choose(self) -> None:
        if self.current is not None:
            self.post_message(self.Chosen(self, self.current))

    def on_click(self, event: Click) -> None:
        event.prevent_default()  # RowsView's own on_click would move the cursor a second time
        before = self.current
        super().on_click(event)
        # as in a DataTable: a click on the row under the cursor chooses it
        if self.current is not None and (self.current == before or event.chain > 1) and event.y >= 1:
            self.post_message(self.Chosen(self, self.current))


def _not_ready(ready: str) -> bool:
    have, _, want = ready.partition("/")
    return have != want


def _fit(text: str, width: int, column: int) -> str:
    if column == NAME:
        return short_pod_name(text, width).ljust(width)
    if len(text) > width:
        text = text[: width - 1] + "…" if width > 1 else text[:width]
    return text.rjust(width) if column in NUMERIC else text.ljust(width)
