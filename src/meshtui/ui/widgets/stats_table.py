"""The stats view: a Line-API table that draws only its visible rows.

It holds a plain list of stat names (the filtered, sorted rows) and reads values,
deltas and rates from the current `StatsSnapshot` while painting, so a tick with
50,000 stats costs a re-filter at most, and a repaint of the screen's rows.
"""

from __future__ import annotations

from typing import Literal

from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive

from meshtui.envoy.filter import StatFilter
from meshtui.envoy.stats import StatsFormatError, parse_quantiles, raw_kind
from meshtui.envoy.tracker import StatsSnapshot
from meshtui.ui.format import delta, fit_number, middle_truncate, rate, shown_name
from meshtui.ui.widgets.rows_view import RowsView

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


class StatsTable(RowsView):
    sort: reactive[SortKey] = reactive("name")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.snapshot: StatsSnapshot | None = None
        self.filter = StatFilter()
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
            self._rows_key = (self.snapshot.names, f, self.sort)
            self.set_rows(f.select(self.rows))
            return
        self._rebuild()

    def watch_sort(self) -> None:
        self._rebuild()

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
            self.set_rows([])
            return
        key = (snap.names, self.filter, self.sort)
        if self.sort == "name" and key == self._rows_key:
            self.refresh()  # same rows, new values: repaint the visible lines only
            return
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
        self._rows_key = key
        self.set_rows(rows)

    # -- painting ----------------------------------------------------------------------

    def _name_width(self, width: int) -> int:
        return max(width - VALUE_W - DELTA_W - RATE_W - 3, 12)

    def header_text(self, width: int) -> str:
        name_w = self._name_width(width)
        arrow = {"name": "NAME ▲", "rate": "/s ▼", "value": "VALUE ▼"}
        return (
            f"{arrow['name'] if self.sort == 'name' else 'NAME':<{name_w}} "
            f"{arrow['value'] if self.sort == 'value' else 'VALUE':>{VALUE_W}} "
            f"{'CHANGE':>{DELTA_W}} "
            f"{arrow['rate'] if self.sort == 'rate' else '/s':>{RATE_W}}"
        )

    def row_segments(self, key: str, width: int) -> list[Segment]:
        snap = self.snapshot
        if snap is None:
            return []
        return self._row(key, snap.values.get(key, ""), snap, self._name_width(width))

    def _row(self, name: str, raw: str, snap: StatsSnapshot, name_w: int) -> list[Segment]:
        dim = self.get_component_rich_style("rows-view--dim", partial=True)
        shape = raw_kind(raw) if raw else "number"
        change = snap.deltas.get(name, 0)
        if name in snap.resets:
            right = Segment(
                f"{'reset':>{RATE_W}}", self.get_component_rich_style("rows-view--bad", partial=True)
            )
            change_text = f"{'↺':>{DELTA_W}}"
        else:
            r = snap.rates.get(name)
            right = Segment(
                f"{rate(r) if r else '':>{RATE_W}}",
                self.get_component_rich_style("rows-view--good", partial=True) if r else Style(),
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
