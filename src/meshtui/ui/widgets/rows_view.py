"""A keyed Line-API table: a header line, then only the visible rows are painted.

Rows are a plain list of keys; subclasses paint a row from its key (`row_segments`)
and the header (`header_text`). The cursor is keyed too: it stays on its row as rows
come, go and re-sort. Used where rows run into the thousands (stats, clusters), where
a DataTable's per-row cost would show on every refresh and keystroke.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, cast

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

if TYPE_CHECKING:
    from typing_extensions import Self


class RowsView(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    RowsView { background: $surface; overflow-x: hidden; }
    RowsView > .rows-view--header { text-style: bold; background: $panel; }
    RowsView > .rows-view--cursor { background: $accent 40%; }
    RowsView:focus > .rows-view--cursor { background: $accent; color: $text; }
    RowsView > .rows-view--good { color: $success; }
    RowsView > .rows-view--bad { color: $warning; text-style: bold; }
    RowsView > .rows-view--dim { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "rows-view--header",
        "rows-view--cursor",
        "rows-view--good",
        "rows-view--bad",
        "rows-view--dim",
    }
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="cursor.-1"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="cursor.1"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="page.-1"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="page.1"),
        Binding("home,g", "jump(0)", "First", show=False, id="jump.0"),
        Binding("end,G", "jump(-1)", "Last", show=False, id="jump.-1"),
    ]

    # subclasses that cache their own strips (the waterfall) repaint whole
    REPAINT_CHANGED_ONLY = True

    class Highlighted(Message):
        """The cursor's row changed (None: no rows)."""

        def __init__(self, view: RowsView, key: str | None) -> None:
            super().__init__()
            self.view = view
            self.key = key

        @property
        def control(self) -> RowsView:
            return self.view

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: Sequence[str] = []
        self.cursor = 0
        self._styles: dict[tuple[str, bool], Style] = {}
        # line -> what render_line last drew there (Textual keeps that strip until the line
        # is marked dirty), and the lines worked out by repaint_changed, not yet drawn
        self._painted: dict[int, LineSpec] = {}
        self._fresh: dict[int, tuple[int, LineSpec]] = {}
        self._marking = False

    def style_of(self, component: str, partial: bool = False) -> Style:
        """A component class's style, kept: Textual works it out by walking the widget's
        ancestors on each call, which a row painted with three styles paid 0.5 ms for
        (a third of a keystroke at 214,000 stats). Cleared when the styles change."""
        key = (component, partial)
        style = self._styles.get(key)
        if style is None:
            if component == "":
                style = self._styles[key] = self.rich_style
            else:
                style = self._styles[key] = self.get_component_rich_style(component, partial=partial)
        return style

    def notify_style_update(self) -> None:
        # focus, a class (`.stale`), the theme: anything that re-applies this widget's CSS
        self._styles.clear()
        super().notify_style_update()

    # -- rows --------------------------------------------------------------------------

    @property
    def current(self) -> str | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def set_rows(self, rows: Sequence[str], keep: str | None = None) -> None:
        """New rows (filtered, sorted); the cursor follows `keep` (default: its current row)."""
        keep = self.current if keep is None else keep
        self.rows = rows
        moved = False
        if keep is not None:
            try:
                index = rows.index(keep)
                moved = index != self.cursor
                self.cursor = index
            except ValueError:
                self.cursor = min(self.cursor, max(len(rows) - 1, 0))
        else:
            self.cursor = min(self.cursor, max(len(rows) - 1, 0))
        self._set_virtual_height(len(rows) + 1)
        if moved:
            self._scroll_to_cursor()
        self.repaint_changed()
        if self.current != keep:
            self.post_message(self.Highlighted(self, self.current))

    def _set_virtual_height(self, height: int) -> None:
        """A new row count changes only the scrollbar. Setting `virtual_size` re-lays out
        the whole screen and repaints every widget on it (10-20 ms a keystroke in the
        stats filter); this updates the scrollbar alone, and lays out only when the
        scrollbar appears or goes (the rows' width changes then). A width that changed
        since the last rows (the scrollbar came after them) is bookkeeping only: overflow-x
        is hidden, and a full layout for it made the first filter key cost ~20 ms more."""
        size = Size(self.line_width(), height)
        if size == self.virtual_size:
            return
        if not self.is_mounted or not self.virtual_size:
            self.virtual_size = size
            return
        self.set_reactive(RowsView.virtual_size, size)
        self._scroll_update(size)  # shows or hides the scrollbar with a layout if need be

    # -- keys --------------------------------------------------------------------------

    def _move_to(self, index: int) -> None:
        if not self.rows:
            return
        before = self.cursor
        self.cursor = max(0, min(index, len(self.rows) - 1))
        self._scroll_to_cursor()
        self.repaint_changed()
        if self.cursor != before:
            self.post_message(self.Highlighted(self, self.current))

    def move_to_key(self, key: str) -> None:
        if key in self.rows:
            self._move_to(self.rows.index(key))

    def _scroll_to_cursor(self) -> None:
        body_h = max(self.size.height - 1, 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + body_h:
            self.scroll_to(y=self.cursor - body_h + 1, animate=False)

    def action_cursor(self, step: int) -> None:
        self._move_to(self.cursor + step)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(self.size.height - 2, 1))

    def action_jump(self, where: int) -> None:
        self._move_to(0 if where == 0 else len(self.rows) - 1)

    def on_click(self, event: Click) -> None:
        if event.y >= 1:
            self._move_to(int(self.scroll_y) + event.y - 1)

    # -- painting ----------------------------------------------------------------------

    def header_text(self, width: int) -> str:
        return ""

    def row_segments(self, key: str, width: int) -> list[Segment]:
        return [Segment(key)]

    def repaint_changed(self) -> None:
        """Mark dirty only the lines whose content changed.

        Textual's cost is per line painted (~0.25 ms at 160 columns, most of it composing
        the widgets behind the row), and a tick or a filter key often leaves most visible
        rows as they were: the same first names under a longer prefix, the same values on
        idle stats. A line's spec is the segments it shows, so no change goes unpainted."""
        if not self.REPAINT_CHANGED_ONLY or not self._painted:
            self.refresh()
            return
        width = self.line_width()
        top = int(self.scroll_y)
        self._fresh.clear()
        changed: list[int] = []
        for y in range(self.size.height):
            spec = self._line_spec(y, width, top)
            if self._painted.get(y) != spec:
                self._fresh[y] = (top, spec)
                changed.append(y)
        full = self.size.width
        self._marking = True
        try:
            for start, count in _runs(changed):
                self.refresh(Region(0, start, full, count))
        finally:
            self._marking = False

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        if not self._marking and self.__dict__.get("_fresh"):
            # a repaint asked for elsewhere (a subclass's own, Textual's): the rows may have
            # changed since repaint_changed worked its lines out, so they are worked out again
            self._fresh.clear()
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _line_spec(self, y: int, width: int, top: int) -> LineSpec:
        if y == 0:
            return (width, self.header_text(width))
        index = top + y - 1
        if index >= len(self.rows):
            return (width,)
        return (width, index == self.cursor, *self.row_segments(self.rows[index], width))

    def line_width(self) -> int:
        """The width rows are painted at: the pane's, unless a table scrolls sideways."""
        return self.scrollable_content_region.width

    def crop_to_view(self, strip: Strip) -> Strip:
        """The part of a painted line on screen (a table that scrolls sideways crops it)."""
        return strip

    def render_line(self, y: int) -> Strip:
        return self.crop_to_view(self._paint_line(y))

    def _paint_line(self, y: int) -> Strip:
        width = self.line_width()
        top = int(self.scroll_y)
        fresh = self._fresh.pop(y, None)
        spec = fresh[1] if fresh is not None and fresh[0] == top and fresh[1][0] == width else None
        if spec is None:
            spec = self._line_spec(y, width, top)
        self._painted[y] = spec
        if y == 0:
            style = self.style_of("rows-view--header")
            return Strip([Segment(str(spec[1]).ljust(width)[:width], style)], width)
        base = self.style_of("")
        if len(spec) == 1:
            return Strip.blank(width, base)
        # no cell length given: a Strip told it is full width is never padded, and a short
        # row would keep the end of whatever was painted there before
        segments = cast("list[Segment]", list(spec[2:]))
        # the widget's colours under every segment: a segment with no colour of its own is
        # drawn in the terminal's default one, which `.stale`'s text-opacity cannot dim
        # (the cursor's colours over them on its line; a segment's own colour still wins)
        under = base + self.style_of("rows-view--cursor") if spec[1] else base
        return Strip(segments).adjust_cell_length(width, under).apply_style(under).simplify()


# (width, header text) | (width,) for a line past the rows | (width, under the cursor, *segments)
LineSpec = tuple[object, ...]


def _runs(lines: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted line numbers -> (first, count) of each run of consecutive lines."""
    start = prev = -2
    for y in lines:
        if y != prev + 1:
            if start >= 0:
                yield start, prev - start + 1
            start = y
        prev = y
    if start >= 0:
        yield start, prev - start + 1
