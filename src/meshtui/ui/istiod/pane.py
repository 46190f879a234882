"""The Control plane place: istiod's health, trends, metrics and every proxy's sync status.

One long-lived worker runs the IstiodFeed while the place is shown (paused when not);
updates arrive as immutable IstiodUpdate snapshots and are drawn keyed, never refilled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import ScrollableContainer, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Sparkline, Static, TabbedContent, TabPane

from meshtui.envoy.filter import StatFilter
from meshtui.istiod.live import IstiodFeed, IstiodUpdate
from meshtui.istiod.metrics import IstiodError
from meshtui.istiod.source import ForwardedIstiod, IstiodSource
from meshtui.kube.access import MeshAccess
from meshtui.ui.istiod.config_diff import ConfigDiffScreen
from meshtui.ui.istiod.messages import IstiodUpdated
from meshtui.ui.istiod.tables import SORTS, MetricTable, SyncTable, summary_text, trend
from meshtui.ui.messages import ShowPod
from meshtui.ui.options import Options
from meshtui.ui.stale import show_freshness, stale_line
from meshtui.ui.widgets.filter_box import FilterBox
from meshtui.ui.widgets.keys import filter_key, next_sort, refresh_key, sort_key
from meshtui.ui.widgets.live_view import LiveView
from meshtui.ui.widgets.state_line import StateLine

NO_CLUSTER = "needs a Kubernetes cluster: started with --admin (istiod is found through the API server)"


SHORT = 34  # pane lines under which the summary is squeezed into a scrolling strip


class SummaryStrip(ScrollableContainer):
    """The summary beside its trends; scrolls by keys once focused (tab)."""

    DEFAULT_CSS = "SummaryStrip { layout: horizontal; }"


class IstiodPane(LiveView):
    status_name = "istiod"

    BINDINGS = [
        filter_key("Filter istiod metrics: a name prefix, or re:REGEX"),
        sort_key("Sort metrics by name, by rate, by value"),
        refresh_key("Poll istiod now"),
    ]

    def __init__(
        self,
        options: Options,
        *,
        id: str | None = None,
        source_for: Callable[[MeshAccess], IstiodSource] | None = None,
    ) -> None:
        super().__init__(id=id)
        self.options = options
        self.source_for = source_for  # tests hand a source straight to a fake 15014
        self.access: MeshAccess | None = None
        self.connected = False
        self.last: IstiodUpdate | None = None  # the last figures (answered polls only)
        self.urls: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield StateLine("waiting for the cluster ...", id="istiod-state")
        # scrollable and focusable: on a short terminal the summary is a strip of a few
        # lines, and tab then up/down (page up/down) reach the rest of it
        with SummaryStrip(id="istiod-top"):
            yield Static("", id="istiod-summary")
            with Vertical(id="istiod-trends"):
                yield Label("pushes/s", id="spark-pushes-label")
                yield Sparkline([0.0], id="spark-pushes")
                yield Label("convergence P99 (last interval)", id="spark-convergence-label")
                yield Sparkline([0.0], id="spark-convergence")
                yield Label("rejects/s", id="spark-rejects-label")
                yield Sparkline([0.0], id="spark-rejects")
        with TabbedContent(id="istiod-views"):
            with TabPane("Proxy sync", id="istiod-tab-proxies"):
                yield SyncTable(id="istiod-proxies")
                yield Static("", id="istiod-proxy-detail")
            with TabPane("Metrics", id="istiod-tab-metrics"):
                yield FilterBox(
                    back_to=lambda: self.metrics,
                    placeholder="filter istiod metrics: prefix, or re:REGEX",
                    id="istiod-filter",
                )
                yield MetricTable(id="istiod-metrics")

    @property
    def proxies(self) -> SyncTable:
        return self.query_one(SyncTable)

    @property
    def metrics(self) -> MetricTable:
        return self.query_one(MetricTable)

    # -- the place protocol --------------------------------------------------------------

    def connect(self, access: MeshAccess | None) -> None:
        self.access, self.connected = access, True
        if access is None:
            self._state(NO_CLUSTER, error=True)
            self.query_one("#istiod-top").display = False
            self.query_one("#istiod-views").display = False
            return
        self._state(f"looking for istiod (app=istiod in {self.options.istio_namespace}) ...")
        if self.shown:
            self._start()

    def set_shown(self, shown: bool) -> None:
        super().set_shown(shown)
        if shown and self.feed is None and self.access is not None:
            self._start()  # istiod is looked for when the place is first shown

    def on_place_opened(self, **arguments: object) -> None:
        if "filter" in arguments:
            self.query_one("#istiod-filter", Input).value = str(arguments["filter"])
        else:
            # not the tab strip, where up/down do nothing; once the place is shown and laid out
            self.call_after_refresh(self.proxies.focus)

    @on(SyncTable.Act)
    def _act(self, message: SyncTable.Act) -> None:
        if message.action == "diff":
            self.action_diff()
        else:
            self.action_show_pod()

    def on_resize(self) -> None:
        # below this the summary's 16 lines leave the proxy sync table only its header
        self.set_class(self.size.height < SHORT, "short")
        if self.last is not None and self.last.total is not None:
            self.call_after_refresh(self._draw, self.last)  # the summary wraps at the new width

    # -- the feed --------------------------------------------------------------------------

    def _start(self) -> None:
        assert self.access is not None
        if self.source_for is not None:
            source = self.source_for(self.access)
        else:
            source = ForwardedIstiod(self.access.target, self.access.manager, self.options.istio_namespace)
        self.start_feed(IstiodFeed(source, self.options.interval))

    async def updated(self, update: IstiodUpdate) -> IstiodUpdated:
        if isinstance(self.feed, IstiodFeed):
            self.urls = dict(self.feed.urls)  # where `d` asks for a proxy's config
        return IstiodUpdated(update)

    @on(IstiodUpdated)
    def _on_update(self, message: IstiodUpdated) -> None:
        u = message.update
        show_freshness(u.freshness, *self._figures())
        if u.error:
            # the last figures stay, dimmed, with no rate: nothing here is live
            if self.last is not None and not self.last.freshness.stale:
                self.last = dataclasses.replace(self.last.without_changes(), freshness=u.freshness)
                self._draw(self.last)
            self._state(stale_line(u.freshness, u.error), error=True)
            return
        self.last = u
        problems = [r.error or r.syncz_error for r in u.replicas if r.error or r.syncz_error]
        line = f"istiod: {len(u.replicas)} replica(s) in {self.options.istio_namespace}, every "
        line += f"{self.options.interval:g}s, {u.fetch_ms:.0f} ms"
        self._state(line + ("  |  " + "; ".join(problems) if problems else ""), error=bool(problems))
        self._draw(u)

    def _figures(self) -> tuple[Widget, ...]:
        """What dims while istiod does not answer."""
        return (self.query_one("#istiod-top"), self.proxies, self.metrics)

    def _draw(self, u: IstiodUpdate) -> None:
        if u.total is not None:
            summary = self.query_one("#istiod-summary", Static)
            # wrapped between figures, never inside one, at the width it has now
            summary.update(summary_text(u.total, u.replicas, summary.content_region.width))
        self.query_one("#spark-pushes", Sparkline).data = trend(u.trends.pushes_per_s)
        self.query_one("#spark-convergence", Sparkline).data = trend(u.trends.convergence_p99)
        self.query_one("#spark-rejects", Sparkline).data = trend(u.trends.rejects_per_s)
        last = u.trends.pushes_per_s[-1] if u.trends.pushes_per_s and not u.freshness.stale else None
        now = f"now {last:.3g}" if last is not None and last == last else "now -"
        self.query_one("#spark-pushes-label", Label).update(f"pushes/s  {now}")
        self.proxies.show(u.proxies)
        self.metrics.show(u.metrics)
        self._detail()

    def _state(self, text: str, error: bool = False) -> None:
        self.query_one("#istiod-state", StateLine).say(text, error)

    @on(SyncTable.Highlighted)
    def _detail(self) -> None:
        row = self.proxies.by_key.get(self.proxies.current or "")
        text = Text()
        if row is not None:
            text.append(f"{row.proxy}  istiod {row.istiod or '-'}  {row.proxy_type or ''}")
            for col, nack in row.nacks:
                text.append(f"\n{col} NACK: {nack}", "bold red")
        self.query_one("#istiod-proxy-detail", Static).update(text)

    # -- keys --------------------------------------------------------------------------------

    @on(Input.Changed, "#istiod-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.metrics.filter = StatFilter(event.value)
        self.metrics.show()

    def action_focus_filter(self) -> None:
        self.query_one(TabbedContent).active = "istiod-tab-metrics"
        self.query_one(FilterBox).open()

    def action_cycle_sort(self) -> None:
        m = self.metrics
        m.sort = next_sort(SORTS, m.sort)
        m.show()

    def action_show_pod(self) -> None:
        row = self.proxies.by_key.get(self.proxies.current or "")
        if row is not None and self.query_one(TabbedContent).active == "istiod-tab-proxies":
            self.post_message(ShowPod(row.namespace, row.pod, tab="tab-stats"))

    def action_diff(self) -> None:
        row = self.proxies.by_key.get(self.proxies.current or "")
        if row is None or self.access is None or self.query_one(TabbedContent).active != "istiod-tab-proxies":
            return
        url = self.urls.get(row.istiod) or next(iter(self.urls.values()), None)
        if url is None:
            self.notify("no istiod replica to ask", severity="warning")
            return
        self._diff(url, row.proxy, row.namespace, row.pod)

    @work(exclusive=True, group="istiod-diff", exit_on_error=False)
    async def _diff(self, url: str, proxy_id: str, namespace: str, pod: str) -> None:
        from meshtui.istiod.compare import compare_proxy
        from meshtui.kube.endpoint import ForwardedAdmin

        assert self.access is not None
        self.notify(f"comparing {proxy_id}: istiod's config against its Envoy's ...", timeout=3)
        envoy: Any = ForwardedAdmin(self.access.manager, namespace, pod)
        try:
            diffs = await compare_proxy(url, proxy_id, envoy)
        except IstiodError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.app.push_screen(ConfigDiffScreen(proxy_id, diffs))
