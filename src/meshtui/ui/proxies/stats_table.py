"""The stats view: a Line-API table that draws only its visible rows.

It holds a plain list of stat names (the filtered, sorted rows) and reads values,
deltas and rates from the current `StatsSnapshot` while painting, so a tick with
50,000 stats costs a re-filter at most, and a repaint of the screen's rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Literal

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.reactive import reactive

from meshtui.envoy.filter import StatFilter
from meshtui.envoy.stats import StatsFormatError, parse_quantiles, raw_kind
from meshtui.envoy.tracker import StatsSnapshot
from meshtui.ui.format import delta, fit_number, middle_truncate, rate, shown_name
from meshtui.ui.widgets.rows_view import RowsView

SortKey = Literal["name", "rate", "value"]
SORTS: tuple[SortKey, ...] = ("name", "rate", "value")
VALUE_W, DELTA_W, RATE_W = 20, 10, 11  # VALUE: a uint64's 20 digits, whole
REGEX_IN_THREAD = 20_000  # names: below, a regex scan takes a few ms on the event loop


def _numeric(raw: str) -> float:
    if raw_kind(raw) == "number":
        try:
            return float(raw)
        except ValueError:
            return 0.0
    return -1.0


class StatsTable(RowsView):
    sort: reactive[SortKey] = reactive("name")
    in_use_only: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.snapshot: StatsSnapshot | None = None
        self.filter = StatFilter()
        self._rows_key: tuple[object, ...] | None = None
        self._selection: tuple[tuple[str, ...], StatFilter, Sequence[str]] | None = None

    # -- data --------------------------------------------------------------------------

    def show(self, snapshot: StatsSnapshot) -> None:
        self.snapshot = snapshot
        self._rebuild()

    def set_filter(self, f: StatFilter) -> None:
        self.filter = f
        self._rebuild()

    def watch_sort(self) -> None:
        self._rebuild()
        # a new order is read from its top, as k9s shows it: the cursor keeps its stat only
        # if that stat is on the first page of the new order
        if self.cursor >= max(self.size.height - 1, 1):
            self._move_to(0)
        self.scroll_to(y=0, animate=False)

    def watch_in_use_only(self) -> None:
        self._rebuild()

    @property
    def _typed_prefix(self) -> str:
        return "" if self.filter.is_regex else self.filter.pattern

    def source(self, snap: StatsSnapshot) -> tuple[str, ...]:
        """The names the rows come from (sorted): all, or those written at least once."""
        if self.in_use_only and snap.in_use is not None:
            return snap.in_use
        return snap.names

    def _rebuild(self) -> None:
        snap = self.snapshot
        if snap is None:
            self.set_rows([])
            return
        names = self.source(snap)
        key = (names, self.filter, self.sort, self.in_use_only)
        if self.sort == "name" and key == self._rows_key:
            self.repaint_changed()  # same rows, new values: repaint the lines that changed
            return
        rows = self._selected(names)
        if rows is None:
            return  # a regex over many names: the rows on screen stay until it is done
        if self.sort == "rate":
            rates = snap.rates
            # rounded, then by name: equal rates keep their order from tick to tick
            # (a stat with a rate was written: it is in use, whichever names are shown)
            moving = sorted((n for n in rates if n in snap.values), key=lambda n: (-round(rates[n], 1), n))
            moving = self.filter.select(moving)
            rows = moving + [n for n in rows if n not in rates]
        elif self.sort == "value":
            # only a stat in use can hold more than its initial 0: the non-zero values,
            # largest first, then the rest by name (sorting 200,000 values each tick is not)
            values = snap.values
            used = rows if snap.in_use is None or self.in_use_only else self.filter.select_sorted(snap.in_use)
            top = [n for n in used if _numeric(values[n]) > 0]
            top.sort(key=lambda n: -_numeric(values[n]))
            chosen = set(top)
            rows = top + [n for n in rows if n not in chosen]
        self._rows_key = key
        self.set_rows(rows)

    def _selected(self, names: tuple[str, ...]) -> Sequence[str] | None:
        """The names the filter keeps, kept while names and filter stay (ticks re-sort by
        rate or value from here). A prefix is a bisect; a regex is a scan, ~60 ms over
        200,000 names, so a big one runs in a thread and this says None meanwhile."""
        cached = self._selection
        if cached is not None and cached[0] is names and cached[1] == self.filter:
            return cached[2]
        if self.filter.is_regex and len(names) > REGEX_IN_THREAD:
            self._select_in_thread(names, self.filter)
            return None
        rows = self.filter.select_sorted(names)
        self._selection = (names, self.filter, rows)
        return rows

    @work(thread=True, exclusive=True, group="stats-regex", exit_on_error=False)
    def _select_in_thread(self, names: tuple[str, ...], f: StatFilter) -> None:
        rows = f.select_sorted(names)
        with contextlib.suppress(RuntimeError):  # the app is closing
            self.app.call_from_thread(self._selected_in_thread, names, f, rows)

    def _selected_in_thread(self, names: tuple[str, ...], f: StatFilter, rows: Sequence[str]) -> None:
        if self.snapshot is None or self.source(self.snapshot) is not names or self.filter != f:
            return  # typed on, or new names came: a newer scan is on its way
        self._selection = (names, f, rows)
        self._rows_key = None
        self._rebuild()

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
        dim = self.style_of("rows-view--dim", partial=True)
        shape = raw_kind(raw) if raw else "number"
        change = snap.deltas.get(name, 0)
        if name in snap.resets:
            right = Segment(f"{'reset':>{RATE_W}}", self.style_of("rows-view--bad", partial=True))
            change_text = f"{'↺':>{DELTA_W}}"
        else:
            r = snap.rates.get(name)
            right = Segment(
                f"{rate(r) if r else '':>{RATE_W}}",
                self.style_of("rows-view--good", partial=True) if r else Style(),
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
        # the name may run into the VALUE column as far as its value leaves it room (one
        # space before the value): most values are short, and a name cut while 15 columns
        # sat blank beside it lost the cluster's port
        span = name_w + 1 + VALUE_W
        shown = shown_name(name, span - len(value) - 1, self._typed_prefix)
        return [
            Segment(shown.ljust(span - len(value))),
            Segment(value + " ", value_style),
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
