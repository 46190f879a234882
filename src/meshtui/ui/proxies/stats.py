"""The stats pane: filter box, the stats table, and the selected stat's detail + sparkline.

It owns the one long-lived worker that polls the selected sidecar (`StatsFeed`).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from meshtui.envoy.filter import FilterError, StatFilter, re2_escape
from meshtui.envoy.stats import StatKind, StatsFormatError, parse_quantiles, raw_kind
from meshtui.envoy.stats_matcher import StatsMatcher, annotation_for
from meshtui.envoy.tracker import StatsSnapshot
from meshtui.live import Freshness
from meshtui.ui.format import delta, number, rate, sparkline
from meshtui.ui.proxies.messages import StatsUpdated
from meshtui.ui.proxies.stats_table import SORTS, StatsTable
from meshtui.ui.stale import show_freshness, stale_line
from meshtui.ui.views import ViewStatus
from meshtui.ui.widgets.filter_box import FilterBox
from meshtui.ui.widgets.keys import filter_key, next_sort, refresh_key, sort_key
from meshtui.ui.widgets.live_view import LiveView
from meshtui.ui.widgets.state_line import StateLine

if TYPE_CHECKING:  # the feed (and the admin client, httpx ...) loads when a pod is selected
    from meshtui.envoy.feed import AdminEndpoint, StatsFeed, StatsUpdate

HISTORY = 60
SLOW_POLL_MS = 250


class StatsPane(LiveView):
    status_name = "stats"
    BINDINGS = [
        filter_key("Filter stats: a name prefix, or re:REGEX"),
        sort_key("Sort by name, by rate (what is moving now), by value"),
        Binding(
            "u",
            "toggle_in_use",
            "In use",
            show=False,  # the bar above the table says `show: all` / `show: in use`
            tooltip="Only the stats written at least once (usedonly), or all of them",
            id="toggle_in_use",
        ),
        Binding("p", "toggle_pause", "Pause", tooltip="Pause or resume the live refresh", id="toggle_pause"),
        refresh_key("Poll the sidecar now"),
    ]

    def __init__(self, interval: float = 1.0, initial_filter: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.interval = interval
        self.initial_filter = initial_filter
        self.feed: StatsFeed | None = None  # LiveView's, narrowed
        self.endpoint_label = ""
        self.last: StatsUpdate | None = None
        self.history: collections.deque[float] = collections.deque(maxlen=HISTORY)
        self._history_for: str | None = None
        self._detail_markup = ""
        self.user_paused = False
        self._filter_error: str | None = None  # an invalid re: filter, shown until fixed
        self._why_missing = ""  # a filter that matched nothing: the stats_matcher that explains it
        self._contains_for: tuple[str, int] | None = None  # (text, id of the names) counted
        self._contains = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="stats-bar"):
            # filtered in the same call as the key, not a message hop later: the new rows are
            # painted in the same frame as the text
            yield FilterBox(
                self.initial_filter,
                back_to=lambda: self.table,
                on_value=self._filter_changed,
                placeholder="filter: name prefix, or re:REGEX",
                id="stats-filter",
            )
            yield Static("", id="stats-mode")
        yield StateLine("Select a pod with a sidecar to see its Envoy stats.", id="stats-state")
        yield StatsTable(id="stats-table")
        with Vertical(id="stat-detail"):
            yield Static("", id="stat-detail-text")
            yield Static("", id="stat-spark")

    def on_mount(self) -> None:
        self.table.filter = StatFilter(self.initial_filter.strip())

    @property
    def table(self) -> StatsTable:
        return self.query_one(StatsTable)

    # -- attaching to a sidecar --------------------------------------------------------

    def attach(self, new_endpoint: Callable[[], AdminEndpoint]) -> None:
        """Poll this Envoy from now on; the previous feed's worker is cancelled (exclusive)."""
        from meshtui.envoy.feed import StatsFeed

        endpoint = new_endpoint()
        feed = StatsFeed(endpoint, self.interval)
        feed.set_filter(self.table.filter)
        self.endpoint_label = endpoint.label
        self.last = None
        self.table.snapshot = None
        self.table.set_filter(self.table.filter)
        self._reset_history(None)
        self._state(f"connecting to {endpoint.label} ...")
        self.start_feed(feed)
        self._show_mode()

    def polls(self) -> bool:
        """Only while shown (a big sidecar's /stats is the heaviest read there is), and not
        while the user paused it (p), which is kept apart and wins."""
        return self.shown and not self.user_paused

    def detach(self, why: str, *, keep: bool = False) -> None:
        self.stop_feed()
        if keep and self.table.snapshot is not None:
            self.table.show(self.table.snapshot.without_changes())
            show_freshness(
                Freshness(stale_since=time.time(), reason=why), self.table, self.query_one("#stat-detail")
            )
            self._state(why, error=True)
            return
        self.table.snapshot = None
        self.table.set_filter(self.table.filter)
        self._state(why)

    # -- export (ui/export.py) ---------------------------------------------------------

    def export_fields(self) -> dict[str, Any]:
        snap = self.table.snapshot
        shown = self.table.filter.text if self.table.filter else ""
        if snap is None:
            return {"filter": shown, "rows": []}
        rows = [
            {
                "name": name,
                "kind": str(getattr(snap.kind(name), "value", snap.kind(name))),
                "value": snap.values.get(name, ""),
                "delta": snap.deltas.get(name, 0),
                "rate_per_s": snap.rates.get(name),
                "reset": name in snap.resets,
            }
            for name in self.table.rows
        ]
        return {"filter": shown, "rows": rows}

    def row_text(self, key: str) -> str:
        snap = self.table.snapshot
        return f"{key} {snap.values.get(key, '') if snap is not None else ''}".rstrip()

    async def updated(self, update: StatsUpdate) -> StatsUpdated:
        return StatsUpdated(update)

    def status(self) -> ViewStatus:
        if self.feed is not None and self.user_paused:
            return ViewStatus("stats PAUSED (p resumes)")
        status = super().status()
        u = self.last
        if u is not None and not u.error and u.fetch_ms >= SLOW_POLL_MS:
            # only worth space when the sidecar or the forward is slow
            return ViewStatus(f"{status.text}, slow poll {u.fetch_ms:.0f} ms", status.problem)
        return status

    # -- updates -----------------------------------------------------------------------

    @on(StatsUpdated)
    def _on_update(self, message: StatsUpdated) -> None:
        update = message.update
        if self.feed is None or update.endpoint != self.endpoint_label:
            return  # a late message from a feed we already left
        self.last = update
        stale = show_freshness(update.freshness, self.table, self.query_one("#stat-detail"))
        if update.error:
            # the last figures stay, dimmed, with no rate or change: nothing here is live
            if self.table.snapshot is not None and (self.table.snapshot.rates or self.table.snapshot.deltas):
                self.table.show(self.table.snapshot.without_changes())
            self._state(stale_line(update.freshness, update.error), error=True)
            self._show_detail()
            return
        snap = update.snapshot
        assert snap is not None and not stale
        if self._filter_error is not None:
            self.table.snapshot = snap  # kept for when the filter is fixed; the error stays
            self._state(self._filter_error, error=True)
            return
        self.table.show(snap)
        self._show_counts()
        self._sample(read=update.read)
        self._show_detail()

    def _show_counts(self) -> None:
        """The state line: how many rows of how many stats, or why there are none."""
        update, snap = self.last, self.table.snapshot
        if update is None or update.error or snap is None or self._filter_error is not None:
            return
        shown, f = len(self.table.rows), self.table.filter
        self._why_missing = ""
        if not snap.names:
            self._state(f"{update.endpoint} has no stats")
        elif (
            shown == 0
            and self.table.in_use_only
            and not f.is_regex
            and (unused := len(f.select_sorted(snap.names)))
        ):
            # they exist, never written: not a stats_matcher question
            self._state(f"none of the {unused:,} stats matching {f.text!r} is in use (u: show all)")
        elif shown == 0 and not f.is_regex and (inside := self._containing(f.text, snap.names)):
            # the names exist, the text is inside them, not at their start: not a
            # stats_matcher question (`rq` is in `cluster...upstream_rq_200`)
            hint = f"re:{re2_escape(f.text)}"
            self._state(f"no stat name starts with {f.text!r}; {inside:,} contain it: {hint} shows them")
        elif shown == 0 and not f.empty and update.matcher is not None and update.matcher.mode != "all":
            self._why_missing = why_missing(f.text, update.matcher)
            self._state(f"no stats match {f.text!r} on {update.endpoint}: see why below", error=True)
        elif shown == 0:
            where = "in use" if self.table.in_use_only else "on " + update.endpoint
            self._state(f"no stats match {f.text!r} {where}")
        else:
            total, in_use = _counts(snap, self.table.in_use_only)
            self._state(f"{shown:,} of {total} from {update.endpoint}{in_use}")

    def _containing(self, text: str, names: tuple[str, ...]) -> int:
        """How many names hold `text` somewhere: worked out once per text and name set
        (`names` is the same object while the set is unchanged)."""
        key = (text, id(names))
        if self._contains_for != key:
            self._contains_for, self._contains = key, sum(1 for n in names if text in n) if text else 0
        return self._contains

    @on(StatsTable.Highlighted)
    def _on_highlight(self, message: StatsTable.Highlighted) -> None:
        if message.key != self._history_for:
            self._reset_history(message.key)
            self._sample()
        self._show_detail()

    def _reset_history(self, name: str | None) -> None:
        self._history_for = name
        self.history.clear()

    def _sample(self, read: frozenset[StatKind] | None = None) -> None:
        """One bar for the highlighted stat; on a poll, only if its kind was read then
        (gauges and histograms are read less often on big sidecars: envoy/used_poll.py)."""
        snap, name = self.table.snapshot, self._history_for
        if snap is None or name is None or name not in snap.values:
            return
        raw = snap.values[name]
        kind = snap.kind(name)
        if read and kind in ("gauge", "histogram", "text") and kind not in read:
            return
        if kind == "counter":
            self.history.append(snap.rates.get(name, 0.0))
        elif raw_kind(raw) == "number":
            self.history.append(float(raw))
        elif kind == "histogram":
            try:
                q = parse_quantiles(raw).get("P99")
            except StatsFormatError:
                q = None
            self.history.append((q.cumulative or 0.0) if q else 0.0)
        spark = self.query_one("#stat-spark", Static)
        spark.update(sparkline(list(self.history), spark.size.width or HISTORY), layout=False)

    def _show_detail(self) -> None:
        snap, name = self.table.snapshot, self.table.current
        if snap is None or name is None or name not in snap.values:
            self._detail(self._why_missing)
            return
        raw = snap.values[name]
        kind = snap.kind(name)
        lines = [f"[b]{name}[/b]", f"kind {kind}"]
        if kind == "histogram":
            try:
                q = parse_quantiles(raw)
            except StatsFormatError:
                q = {}
            if not q:
                lines.append("No recorded values (yet: histograms fill at each stats flush)")
            else:
                # two lines, so the percentiles fit the 3-line detail of an 80x24 screen
                labels = [label for label in ("P50", "P90", "P99") if label in q]
                for i, (part, what) in enumerate((("cumulative", "cumulative"), ("interval", "interval"))):
                    cells = "  ".join(f"{p} {number(getattr(q[p], what)):<8}" for p in labels)
                    lead = lines.pop() + "  " if i == 0 else " " * 16
                    lines.append(f"{lead}{part:<10}  {cells}".rstrip())
            spark = "sparkline: P99 cumulative"
        elif kind == "text":
            lines.append(f"value {raw.strip(chr(34))}")
            spark = ""
        else:
            lines[-1] += f"   value {raw}"
            if name in snap.resets:
                lines.append(
                    "[b]reset[/b]: went down since the last poll (Envoy restarted or counters reset)"
                )
            elif self.last is not None and self.last.freshness.stale:
                lines.append(f"change -   rate -   (not polled since {self.last.freshness.since_text()})")
            elif kind == "counter":
                change = delta(snap.deltas.get(name, 0)) or "0"
                shown = rate(snap.rates.get(name, 0.0)) if snap.elapsed is not None else "- (next poll)"
                lines.append(f"change {change}   rate {shown}")
            else:
                lines.append(f"change {delta(snap.deltas.get(name, 0)) or '0'}")
            spark = "sparkline: rate per second" if kind == "counter" else "sparkline: value"
        if spark:
            lines.append(f"[dim]{spark}, {self._bars(kind)}[/dim]")
        self._detail("\n".join(lines))

    def _bars(self, kind: StatKind) -> str:
        """What one sparkline bar is: a poll, or a read of a kind read less often."""
        every = dict(self.last.every) if self.last is not None else {}
        seconds = every.get(kind)
        if seconds is None or self.feed is None or seconds <= self.feed.interval:
            return "one bar per poll"
        return f"one bar per read, every {seconds:g} s"

    def _detail(self, markup: str) -> None:
        if markup != self._detail_markup:  # an unchanged Static costs a repaint all the same
            self._detail_markup = markup
            # fixed heights in the CSS: no layout (a layout repaints the whole screen)
            self.query_one("#stat-detail-text", Static).update(markup, layout=False)

    def _state(self, text: str, error: bool = False) -> None:
        self.query_one("#stats-state", StateLine).say(text, error)

    def _show_mode(self) -> None:
        parts = [f"sort: {self.table.sort}", "show: in use" if self.table.in_use_only else "show: all"]
        if self.user_paused:
            parts.append("PAUSED")
        self.query_one("#stats-mode", Static).update("  ".join(parts))

    # -- keys and filter ---------------------------------------------------------------

    def _filter_changed(self, value: str) -> None:
        if not self.is_mounted:
            return
        f = StatFilter(value.strip())
        try:
            _ = f.compiled
        except FilterError as exc:
            # no rows until it is fixed: showing them all would read as "everything matches"
            self._filter_error = str(exc)
            self.table.set_rows([])
            self._state(self._filter_error, error=True)
            return
        self._filter_error = None
        self.table.set_filter(f)
        if self.feed:
            self.feed.set_filter(f)
        self._show_counts()
        if not self.table.rows:
            self._show_detail()

    def show_filter(self, text: str) -> None:
        """Set the filter as if typed (the jump from a cluster to its stats)."""
        self.query_one(FilterBox).value = text

    def action_focus_filter(self) -> None:
        self.query_one(FilterBox).open()

    def action_cycle_sort(self) -> None:
        table = self.table
        table.sort = next_sort(SORTS, table.sort)
        self._show_mode()

    def action_toggle_in_use(self) -> None:
        self.table.in_use_only = not self.table.in_use_only
        self._show_mode()
        self._show_counts()

    def action_toggle_pause(self) -> None:
        self.user_paused = not self.user_paused
        self.polling_changed()
        self._show_mode()


def _counts(snap: StatsSnapshot, in_use_only: bool) -> tuple[str, str]:
    """("214,521 stats", " (14,799 in use)"), or with `u` ("14,799 stats in use", " (of 214,521; u: all)")."""
    total = len(snap.names)
    if snap.in_use is None or len(snap.in_use) == total:
        return f"{total:,} stats", ""
    if in_use_only:
        return f"{len(snap.in_use):,} stats in use", f" (of {total:,}; u: all)"
    return f"{total:,} stats", f" ({len(snap.in_use):,} in use)"


def why_missing(text: str, matcher: StatsMatcher) -> str:
    """The detail area's explanation: the active list, and the annotation to copy."""
    prefix = StatFilter(text).pattern
    certain = not text.startswith("re:") and matcher.excludes(prefix)
    head = "are never created" if certain else "may never be created"
    kept = {
        "inclusion": f"keeps only (inclusion list): {matcher.listing()}",
        "exclusion": f"drops (exclusion list): {matcher.listing()}",
        "reject_all": "rejects every stat (reject_all)",
    }[matcher.mode]
    return "\n".join(
        [
            f"[b]Stats like {escape(text)!s} {head} on this proxy:[/b]",
            f"its bootstrap's stats_config.stats_matcher {escape(kept)}",
            "To include them, add this to the pod's annotations and restart it:",
            f"[b]{escape(annotation_for(text))}[/b]",
        ]
    )


__all__ = ["StatsPane", "StatsUpdated"]
