"""The row tables' DataTable: the vi keys k9s users move with, as the Line-API tables have
(rows_view.py), and keyed updates: a refresh changes the cells that changed, adds and
removes rows by key, and never clears and refills (which loses the cursor and lays out
the whole table on every tick)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable


class Table(DataTable[str]):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="cursor_down"),
        Binding("k", "cursor_up", "Up", show=False, id="cursor_up"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synced: dict[str, tuple[Any, ...]] = {}  # key -> the cells last shown

    def sync(self, rows: Mapping[str, Sequence[Any]]) -> None:
        """Show exactly these rows, in the columns' order: gone keys removed, new ones
        added (at the end), changed cells updated in place."""
        if len(self._synced) != self.row_count:  # cleared or filled elsewhere: start over
            self._synced = {str(k.value): () for k in self.rows}
        for key in [k for k in self._synced if k not in rows]:
            self.remove_row(key)
            del self._synced[key]
        columns = list(self.columns)
        for key, cells in rows.items():
            row = tuple(cells)
            old = self._synced.get(key)
            if old is None:
                self.add_row(*row, key=key)
            elif old != row:
                for column, was, now in zip(columns, old or (None,) * len(row), row, strict=True):
                    if was != now:
                        self.update_cell(key, column, now, update_width=True)
            self._synced[key] = row
