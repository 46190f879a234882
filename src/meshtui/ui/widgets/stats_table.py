"""The stats view: a Line-API table that draws only its visible rows.

It holds a plain list of stat names (the filtered, sorted rows) and reads values,
deltas and rates from the current `StatsSnapshot` while painting, so a tick with
50,000 stats costs a re-filter at most, and a repaint of the screen's rows.
"""

from __future__ import annotations

from typing import Literal

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from meshtui.envoy.filter import StatFilter
from meshtui.envoy.stats import StatsFormatError, parse_quantiles, raw_kind
from meshtui.envoy.tracker import StatsSnapshot
from meshtui.ui.format import delta, fit_number, middle_truncate, rate, shown_name

SortKey = Literal["name", "rate", "value"]
SORTS: tuple[SortKey, ...] = ("name", "rate", "value")
VALUE_W, DELTA_W, RATE_W = 18, 10, 11


def _numeric(raw: str) -> float:
    if raw_kind(raw) == "number":
        try:
            return float(raw)
        except ValueError:
            return 0.0
    return -1.0


class StatsTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    StatsTable { background: $surface; overflow-x: hidden; }
    StatsTable > .stats-table--header { text-style: bold; background: $panel; }
    StatsTable > .stats-table--cursor { background: $accent 40%; }
    StatsTable:focus > .stats-table--cursor { background: $accent; color: $text; }
    StatsTable > .stats-table--moving { color: $success; }
    StatsTable > .stats-table--reset { color: $warning; text-style: bold; }
    StatsTable > .stats-table--dim { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "stats-table--header",
        "stats-table--cursor",
        "stats-table--moving",
        "stats-table--reset",
        "stats-table--dim",
    }
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "First", show=False),
        Binding("end,G", "jump(-1)", "Last", show=False),
    ]

    sort: reactive[SortKey] = reactive("name")

    class Highlighted(Message):
        def __init__(self, name: str | None) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.snapshot: StatsSnapshot | None = None
        self.filter = StatFilter()
        self.rows: list[str] = []
        self.cursor = 0
        self._sorted_names: tuple[tuple[str, ...] | None, list[str]] = (None, [])
        self._rows_key: tuple[object, ...] | None = None

    # -- data --------------------------------------------------------------------------

    def show(self, snapshot: StatsSnapshot) -> None:
        self.snapshot = snapshot
        self._rebuild()

    def set_filter(self, f: StatFilter) -> None:
        before, self.filter = self.filter, f
        if self.snapshot is not None and self.sort == "name" and f.narrows(before) and self._rows_key:
            # typing one more character: the answer is inside the rows already shown
            keep = self.current
            self.rows = f.select(self.rows)
            self._rows_key = (self.snapshot.names, f, self.sort)
            self._apply_rows(keep)
            return
        self._rebuild()

    def watch_sort(self) -> None:
        self._rebuild()

    @property
    def current(self) -> str | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    @property
    def _typed_prefix(self) -> str:
        return "" if self.filter.is_regex else self.filter.pattern

    def _by_name(self, names: tuple[str, ...]) -> list[str]:
        cached_for, ordered = self._sorted_names
        if cached_for is not names:
            ordered = sorted(names)
            self._sorted_names = (names, ordered)
        return ordered

    def _rebuild(self) -> None:
        snap = self.snapshot
        if snap is None:
            self.rows = []
            self._apply_rows(None)
            return
        key = (snap.names, self.filter, self.sort)
        if self.sort == "name" and key == self._rows_key:
            self.refresh()  # same rows, new values: repaint the visible lines only
            return
        keep = self.current
        if self.sort == "name":
            rows = self.filter.select(self._by_name(snap.names))
        elif self.sort == "rate":
            rates = snap.rates
            # rounded, then by name: equal rates keep their order from tick to tick
            moving = sorted((n for n in rates if n in snap.values), key=lambda n: (-round(rates[n], 1), n))
            moving = self.filter.select(moving)
            rest = self.filter.select([n for n in self._by_name(snap.names) if n not in rates])
            rows = moving + rest
        else:
            values = snap.values
            rows = self.filter.select(sorted(snap.names, key=lambda n: -_numeric(values[n])))
        self.rows = rows
        self._rows_key = key
        self._apply_rows(keep)

    def _apply_rows(self, keep: str | None) -> None:
        moved = False
        if keep is not None:
            # keyed by name: the cursor stays on its stat as rows come, go and re-sort
            try:
                index = self.rows.index(keep)
                moved = index != self.cursor
                self.cursor = index
            except ValueError:
                self.cursor = min(self.cursor, max(len(self.rows) - 1, 0))
        else:
            self.cursor = min(self.cursor, max(len(self.rows) - 1, 0))
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows) + 1)
        if moved:
            self._scroll_to_cursor()
        self.refresh()
        if self.current != keep:
            self.post_message(self.Highlighted(self.current))

    # -- keys --------------------------------------------------------------------------

    def _move_to(self, index: int) -> None:
        if not self.rows:
            return
        before = self.cursor
        self.cursor = max(0, min(index, len(self.rows) - 1))
        self._scroll_to_cursor()
        self.refresh()
        if self.cursor != before:
            self.post_message(self.Highlighted(self.current))

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

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", 0)
        if y >= 1:
            self._move_to(int(self.scroll_y) + y - 1)

    # -- painting ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        name_w = max(width - VALUE_W - DELTA_W - RATE_W - 3, 12)
        if y == 0:
            style = self.get_component_rich_style("stats-table--header")
            arrow = {"name": "NAME ▲", "rate": "/s ▼", "value": "VALUE ▼"}
            head = (
                f"{arrow['name'] if self.sort == 'name' else 'NAME':<{name_w}} "
                f"{arrow['value'] if self.sort == 'value' else 'VALUE':>{VALUE_W}} "
                f"{'CHANGE':>{DELTA_W}} "
                f"{arrow['rate'] if self.sort == 'rate' else '/s':>{RATE_W}}"
            )
            return Strip([Segment(head.ljust(width)[:width], style)], width)
        index = int(self.scroll_y) + y - 1
        base = self.rich_style
        if self.snapshot is None or index >= len(self.rows):
            return Strip.blank(width, base)
        name = self.rows[index]
        snap = self.snapshot
        raw = snap.values.get(name, "")
        segments = self._row(name, raw, snap, name_w)
        strip = Strip(segments, width).adjust_cell_length(width, base).simplify()
        if index == self.cursor:
            strip = strip.apply_style(self.get_component_rich_style("stats-table--cursor"))
        return strip

    def _row(self, name: str, raw: str, snap: StatsSnapshot, name_w: int) -> list[Segment]:
        dim = self.get_component_rich_style("stats-table--dim")
        shape = raw_kind(raw) if raw else "number"
        change = snap.deltas.get(name, 0)
        if name in snap.resets:
            right = Segment(f"{'reset':>{RATE_W}}", self.get_component_rich_style("stats-table--reset"))
            change_text = f"{'↺':>{DELTA_W}}"
        else:
            r = snap.rates.get(name)
            right = Segment(
                f"{rate(r) if r else '':>{RATE_W}}",
                self.get_component_rich_style("stats-table--moving") if r else Style(),
            )
            change_text = f"{delta(change):>{DELTA_W}}"
        if shape == "number":
            value = fit_number(raw, VALUE_W)
            value_style = Style()
        elif shape == "text":
            value = middle_truncate(raw.strip('"'), VALUE_W)
            value_style = dim
        else:
            value = _histogram_cell(raw)
            value_style = dim
        return [
            Segment(f"{shown_name(name, name_w, self._typed_prefix):<{name_w}} "),
            Segment(f"{value:>{VALUE_W}} ", value_style),
            Segment(change_text + " "),
            right,
        ]


def _histogram_cell(raw: str) -> str:
    try:
        q = parse_quantiles(raw)
    except StatsFormatError:
        return "?"
    if not q:
        return "no values"
    p50, p99 = q.get("P50"), q.get("P99")
    if not p50 or not p99:
        return "histogram"
    return f"p50 {_short(p50.cumulative)} p99 {_short(p99.cumulative)}"[:VALUE_W]


def _short(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3g}"
