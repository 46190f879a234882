"""A Config section's rows as a Line-API table: a gateway's Endpoints section has thousands
of rows (2,000 clusters x 3 endpoints), which a DataTable refilled on each filter key took
a second to build; here only the rows on screen are painted. A section wider than the pane
scrolls sideways (left/right), each cell whole or shortened in the middle.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from textual.strip import Strip

from meshtui.ui.format import middle_truncate
from meshtui.ui.widgets.rows_view import RowsView


class ConfigTable(RowsView):
    DEFAULT_CSS = "ConfigTable { overflow-x: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys: tuple[str, ...] = ()  # the columns' row fields (envoy/config_dump.py COLUMNS)
        self.labels: tuple[str, ...] = ()
        self.texts: Sequence[tuple[str, ...]] = []  # every row's cells, whole; rows index into it
        self.widths: list[int] = []
        self.limit = 70

    def show(
        self,
        columns: Sequence[tuple[str, str]],
        texts: Sequence[tuple[str, ...]],
        lengths: Sequence[Sequence[int]],
        shown: list[int],
        limit: int,
    ) -> None:
        """The rows `shown` (indexes into `texts`) under `columns` (field, label); a cell longer than `limit`
        keeps both ends. Columns are as wide as their widest shown cell (`lengths`: each
        column's cell lengths, worked out with the rows)."""
        keys, labels = tuple(c[0] for c in columns), tuple(c[1] for c in columns)
        new_section = keys != self.keys or texts is not self.texts
        self.keys, self.labels, self.texts, self.limit = keys, labels, texts, limit
        every = len(shown) == len(texts)
        widest = [max(col if every else map(col.__getitem__, shown), default=0) for col in lengths]
        self.widths = [
            min(max(len(label), w), max(limit, len(label))) for label, w in zip(labels, widest, strict=True)
        ]
        rows = [str(i) for i in shown]
        if new_section:
            self.scroll_to(x=0, y=0, animate=False, immediate=True)
        self.set_rows(rows, keep=rows[0] if new_section and rows else None)
        if new_section:
            self.refresh()

    def cells(self, key: str) -> tuple[str, ...]:
        """A row's cells as drawn (shortened in the middle to the column's width)."""
        texts = self.texts[int(key)]
        return tuple(middle_truncate(t, w) for t, w in zip(texts, self.widths, strict=True))

    def line_width(self) -> int:
        return max(sum(w + 1 for w in self.widths), self.scrollable_content_region.width)

    def crop_to_view(self, strip: Strip) -> Strip:
        x = int(self.scroll_x)
        return strip.crop(x, x + self.scrollable_content_region.width)

    def header_text(self, width: int) -> str:
        return " ".join(label.ljust(w) for label, w in zip(self.labels, self.widths, strict=True))

    def row_segments(self, key: str, width: int) -> list[Segment]:
        return [Segment(" ".join(c.ljust(w) for c, w in zip(self.cells(key), self.widths, strict=True)))]
