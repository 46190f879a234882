"""A trace's waterfall: the span tree on the left, bars on the trace's time axis on the
right. Line API on RowsView, so a 5,000-span trace paints only the rows on screen.

Keys: up/down next/previous span, space collapse/expand, left collapse (or go to the
parent), right expand, p parent, e expand all, c collapse all, n/N next/previous error.
"""

from __future__ import annotations

import gc

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region
from textual.strip import Strip

from meshtui.jaeger.text import fmt_us
from meshtui.jaeger.tree import SpanNode, TraceTree
from meshtui.ui.widgets.rows_view import RowsView

NAME_SHARE = 0.45  # of the width, for the tree; the rest is the time axis


class Waterfall(RowsView):
    REPAINT_CHANGED_ONLY = False  # rows are strips it keeps per span (render_line below)
    # the rows come first on a small terminal: the span detail below gives way (its max-height)
    DEFAULT_CSS = """
    Waterfall { height: 1fr; min-height: 6; }
    Waterfall > .waterfall--bar { color: $primary; }
    Waterfall > .waterfall--error { color: $error; text-style: bold; }
    Waterfall > .waterfall--missing { color: $warning; }
    """
    COMPONENT_CLASSES = RowsView.COMPONENT_CLASSES | {
        "waterfall--bar",
        "waterfall--error",
        "waterfall--missing",
    }
    BINDINGS = [
        Binding(
            "space,enter",
            "toggle_span",
            "Fold",
            tooltip="Collapse or expand the span's children",
            id="toggle_span",
        ),
        Binding(
            "left,h",
            "collapse",
            "Collapse",
            show=False,
            tooltip="Collapse, or go to the parent",
            id="collapse",
        ),
        Binding("right,l", "expand", "Expand", show=False, tooltip="Expand the span's children", id="expand"),
        Binding("p", "parent", "Parent", tooltip="Go to the parent span", id="parent"),
        Binding("e", "expand_all", "Expand all", tooltip="Expand every span", id="expand_all"),
        Binding(
            "c",
            "collapse_all",
            "Collapse all",
            show=False,
            tooltip="Collapse to the root spans",
            id="collapse_all",
        ),
        Binding("n", "error(1)", "Next error", show=False, tooltip="Next error span", id="error.1"),
        Binding("N", "error(-1)", "Prev error", show=False, tooltip="Previous error span", id="error.-1"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.trace_tree: TraceTree | None = None
        self.collapsed: set[str] = set()
        # painted rows by key: a cursor move repaints from here (the cursor style is applied
        # on top), so keys stay cheap however long the trace; a fold or a resize clears it
        self._strips: dict[str, Strip] = {}
        self._strip_width = 0

    def show(self, tree: TraceTree) -> None:
        self.trace_tree = tree
        self.collapsed = set()
        self.cursor = 0
        self.scroll_to(y=0, animate=False)
        self._strips.clear()
        self.set_rows(self._visible(), keep=tree.nodes[0].key if tree.nodes else None)
        self.post_message(self.Highlighted(self, self.current))
        # A 5,000-span trace is ~35k GC-tracked objects (spans, tags, tree nodes). Left in
        # the young generations, the first gen-1 pass after the open lands on some cursor
        # key and holds it 70-90 ms (bench/trace_waterfall.py). Pay it once, after the
        # waterfall is on screen, while the user reads it.
        self.call_after_refresh(gc.collect, 1)

    @property
    def node(self) -> SpanNode | None:
        key = self.current
        return self.trace_tree.node(key) if self.trace_tree and key else None

    def _visible(self) -> list[str]:
        """Keys in waterfall order, skipping what collapsed spans hide (one linear pass)."""
        if self.trace_tree is None:
            return []
        rows: list[str] = []
        hide_below: int | None = None
        for n in self.trace_tree.nodes:
            if hide_below is not None:
                if n.depth > hide_below:
                    continue
                hide_below = None
            rows.append(n.key)
            if n.key in self.collapsed and n.children:
                hide_below = n.depth
        return rows

    def _relayout(self, keep: str | None = None) -> None:
        self._strips.clear()  # fold markers changed
        self.set_rows(self._visible(), keep=keep)

    def _move_to(self, index: int) -> None:
        """As RowsView's, but without scrolling only the two cursor lines are repainted."""
        if not self.rows:
            return
        before, top = self.cursor, int(self.scroll_y)
        self.cursor = max(0, min(index, len(self.rows) - 1))
        self._scroll_to_cursor()
        if int(self.scroll_y) == top:
            width = self.size.width
            self.refresh(Region(0, before - top + 1, width, 1), Region(0, self.cursor - top + 1, width, 1))
        else:
            self.refresh()
        if self.cursor != before:
            self.post_message(self.Highlighted(self, self.current))

    # -- actions -----------------------------------------------------------------------

    def action_toggle_span(self) -> None:
        n = self.node
        if n is None or not n.children:
            return
        self.collapsed.symmetric_difference_update({n.key})
        self._relayout(n.key)

    def action_collapse(self) -> None:
        n = self.node
        if n is None:
            return
        if n.children and n.key not in self.collapsed:
            self.collapsed.add(n.key)
            self._relayout(n.key)
        else:
            self.action_parent()

    def action_expand(self) -> None:
        n = self.node
        if n is not None and n.key in self.collapsed:
            self.collapsed.discard(n.key)
            self._relayout(n.key)

    def action_parent(self) -> None:
        n = self.node
        if n is not None and n.parent is not None:
            self.move_to_key(n.parent)

    def action_expand_all(self) -> None:
        self.collapsed.clear()
        self._relayout(self.current)

    def action_collapse_all(self) -> None:
        if self.trace_tree is None:
            return
        self.collapsed = {n.key for n in self.trace_tree.nodes if n.depth == 0 and n.children}
        top = self.node
        while top is not None and top.parent is not None:
            top = self.trace_tree.node(top.parent)
        self._relayout(top.key if top else None)

    def action_error(self, step: int) -> None:
        if self.trace_tree is None or not self.rows:
            return
        count = len(self.rows)
        for i in range(1, count):
            index = (self.cursor + step * i) % count
            if self.trace_tree.node(self.rows[index]).span.is_error:
                self._move_to(index)
                return

    # -- painting ----------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.style_of(name)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = int(self.scroll_y) + y - 1
        if y == 0 or index >= len(self.rows):
            return super().render_line(y)
        if width != self._strip_width:
            self._strips.clear()
            self._strip_width = width
        key = self.rows[index]
        strip = self._strips.get(key)
        if strip is None:
            # no cell length given: the segments may be shorter than the width, and a Strip
            # told it is full-width is never padded (the rest of the line kept old text)
            strip = Strip(self.row_segments(key, width))
            strip = self._strips[key] = strip.adjust_cell_length(width, self.style_of("")).simplify()
        if index == self.cursor:
            strip = strip.apply_style(self.style_of("rows-view--cursor"))
        return strip

    def header_text(self, width: int) -> str:
        if self.trace_tree is None:
            return ""
        left = int(width * NAME_SHARE)
        axis = width - left
        ticks = ""
        for i in range(4):
            label = fmt_us(self.trace_tree.duration_us * i / 4)
            ticks += label.ljust(axis // 4)
        return "Service: operation".ljust(left) + ticks[:axis]

    def row_segments(self, key: str, width: int) -> list[Segment]:
        assert self.trace_tree is not None
        n = self.trace_tree.node(key)
        left = int(width * NAME_SHARE)
        axis = max(width - left - 1, 10)
        marker = ("▸ " if key in self.collapsed else "▾ ") if n.children else "  "
        flags = ("!" if n.span.is_error else "") + ("⚠" if n.missing_parent else "")
        name = f"{'  ' * min(n.depth, 20)}{marker}{n.span.service}: {n.span.operation}"
        name_width = left - len(flags) - 1
        name = (name if len(name) <= name_width else name[: name_width - 1] + "…").ljust(name_width)
        total = self.trace_tree.duration_us or 1
        start = min(int(n.offset_us * axis / total), axis - 1)
        length = max(1, int(n.duration_us * axis / total))
        length = min(length, axis - start)
        label = f" {fmt_us(n.duration_us)}"
        bar_style = self._style("waterfall--error") if n.span.is_error else self._style("waterfall--bar")
        segments = [Segment(name)]
        if flags:
            warn = "waterfall--error" if n.span.is_error else "waterfall--missing"
            segments.append(Segment(flags, self._style(warn)))
        segments.append(Segment(" " + " " * start))
        segments.append(Segment("█" * length, bar_style))
        if start + length + len(label) <= axis:
            segments.append(Segment(label, self._style("rows-view--dim")))
        elif start >= len(label):  # no room after the bar: put the duration before it
            segments[-2] = Segment(" " + " " * (start - len(label)) + label, self._style("rows-view--dim"))
        return segments
