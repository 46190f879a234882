"""The Traces place: find Jaeger, search traces, open one as a waterfall, force-trace.

The pane owns its workers (connect, search loop, lookup/force-trace); they call the
backend in meshtui.jaeger and post immutable results back as Messages. Only while the
place is on screen does the search auto-refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from meshtui.jaeger.client import JaegerClient, JaegerError
from meshtui.jaeger.force import ForcedRequest, missing_hops
from meshtui.jaeger.live import AUTO_REFRESH_S, SearchFeed, TraceSearch
from meshtui.jaeger.locate import JaegerLink
from meshtui.jaeger.model import JaegerFormatError, Trace
from meshtui.jaeger.query import QueryError, TraceQuery
from meshtui.jaeger.text import fmt_start, fmt_us
from meshtui.jaeger.tree import TraceSummary, TraceTree, summarize
from meshtui.kube.access import MeshAccess
from meshtui.ui.options import Options
from meshtui.ui.stale import show_freshness, stale_line
from meshtui.ui.traces.form import LOOKUP_KEY, SEARCH_KEY, LookupForm, SearchForm
from meshtui.ui.traces.messages import (
    Found,
    JaegerReady,
    Progress,
    TraceOpened,
    TracesFound,
    found_with_trees,
    opened,
)
from meshtui.ui.traces.results import add_result_columns, fill_results
from meshtui.ui.traces.span_detail import SpanDetail
from meshtui.ui.traces.waterfall import Waterfall
from meshtui.ui.widgets.live_view import LiveView
from meshtui.ui.widgets.rows_view import RowsView
from meshtui.ui.widgets.state_line import StateLine
from meshtui.ui.widgets.table import Table

DETAIL_DELAY_S = 0.06
CONNECT_WAIT_S = 10.0
BACKEND_ERRORS = (JaegerError, JaegerFormatError, QueryError)
_HEX_ID = re.compile(r"^[0-9a-fA-F]{16}([0-9a-fA-F]{16})?$")


class TracesPane(LiveView):
    status_name = "traces"

    BINDINGS = [
        SEARCH_KEY,
        LOOKUP_KEY,
        Binding(
            "f",
            "force",
            "Force-trace",
            tooltip="Send one request with x-envoy-force-trace and open it",
            id="force",
        ),
        Binding("s", "sort", "Sort", tooltip="Sort results by start time or by duration", id="sort"),
        Binding("a", "auto", "Auto-refresh", tooltip="Repeat the search every 5 s while shown", id="auto"),
        Binding("escape", "back", "Results", tooltip="Back from the waterfall to the results", id="back"),
    ]

    def __init__(self, options: Options, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.options = options
        self.access: MeshAccess | None = None
        self.link: JaegerLink | None = None
        self.auto_search = False
        self.sort_by = "start"
        self.found: dict[str, Found] = {}
        self.trace_tree: TraceTree | None = None
        self.summary: TraceSummary | None = None
        self._connected = False
        self._opening = False  # the connect worker is at work
        self.forced: ForcedRequest | None = None  # the last force-traced request
        self._detail_timer: Timer | None = None
        self._query: TraceQuery | None = None
        self._linked = asyncio.Event()  # set once the connect worker has a link

    def compose(self) -> ComposeResult:
        yield Static("Jaeger: not connected yet", id="traces-jaeger")
        yield SearchForm(id="traces-search")
        yield LookupForm(id="traces-lookup")
        yield StateLine("", id="traces-state")
        with ContentSwitcher(initial="traces-results", id="traces-body"):
            yield Table(id="traces-results", cursor_type="row", zebra_stripes=True)
            with Vertical(id="traces-trace"):
                yield Static("", id="traces-title")
                yield Waterfall(id="traces-waterfall")
                yield SpanDetail(id="traces-detail")

    def on_mount(self) -> None:
        add_result_columns(self.query_one("#traces-results", DataTable))

    # -- the place interface -----------------------------------------------------------

    def connect(self, access: MeshAccess | None) -> None:
        self.access = access
        self._connected = True
        if access is None and not self.options.jaeger_url:
            self._jaeger_line(
                "needs a Kubernetes cluster: started with --admin (or give --jaeger-url URL)", True
            )
            return
        if self.shown and self.link is None and not self._opening:
            self._open_jaeger()

    def set_shown(self, shown: bool) -> None:
        super().set_shown(shown)  # shown again: the search on screen is read again at once
        can = self.options.jaeger_url or (self._connected and self.access is not None)
        if shown and self.link is None and can and not self._opening:
            self._open_jaeger()

    def on_place_opened(
        self,
        service: str | None = None,
        tags: tuple[tuple[str, str], ...] = (),
        trace_id: str | None = None,
        request_id: str | None = None,
        upstream_cluster: str | None = None,
    ) -> None:
        """From another pane: search a service (and tags, e.g. upstream_cluster), or open one trace."""
        # keys work at once (k9s style): focus the list or the waterfall, not an input
        body = self.query_one("#traces-body", ContentSwitcher)
        target = self.query_one(Waterfall) if body.current == "traces-trace" else self.query_one(DataTable)
        self.call_after_refresh(target.focus)  # after the app's own focus of the place
        form = self.query_one(SearchForm)
        if upstream_cluster:
            form.fill("", (("upstream_cluster", upstream_cluster),))
            self._state(f"searching every service for upstream_cluster={upstream_cluster} ...")
            self.query_one("#traces-body", ContentSwitcher).current = "traces-results"
            self.stop_feed()  # this search replaces the one on screen
            self._search_everywhere((("upstream_cluster", upstream_cluster),))
        elif service is not None:
            form.fill(service, tags)
            self.action_search()
        elif trace_id or request_id:
            self._lookup(str(trace_id or request_id))

    # -- workers -----------------------------------------------------------------------

    @work(exclusive=True, group="jaeger-connect", exit_on_error=False)
    async def _open_jaeger(self) -> None:
        from meshtui.jaeger.locate import open_jaeger

        self._opening = True
        self.post_message(Progress("finding Jaeger ..."))
        try:
            link = await open_jaeger(self.access, self.options.jaeger_url, self.options.jaeger_service)
        except BACKEND_ERRORS as exc:
            self.post_message(JaegerReady(None, str(exc)))
            return
        finally:
            self._opening = False
        try:
            services = tuple(await link.client.services())
        except BACKEND_ERRORS:
            services = ()
        self.post_message(JaegerReady(link, services=services))

    async def _client(self) -> JaegerClient:
        if self.link is None:
            with contextlib.suppress(asyncio.TimeoutError):  # the connect worker may still be at work
                await asyncio.wait_for(self._linked.wait(), CONNECT_WAIT_S)
        if self.link is None:
            raise JaegerError("Jaeger is not connected (see the line at the top)")
        return self.link.client

    def _explain(self, error: str) -> str:
        return self.link.explain(error) if self.link is not None else error

    def _search(self, query: TraceQuery) -> None:
        interval = AUTO_REFRESH_S if self.auto_search else None
        self.start_feed(SearchFeed(self._client, query, interval, explain=self._explain))

    async def updated(self, update: TraceSearch) -> TracesFound:
        # the span trees are built off the event loop: keys stay answered meanwhile
        found = await asyncio.to_thread(found_with_trees, list(update.traces)) if update.traces else ()
        return TracesFound(update, found)

    @work(exclusive=True, group="live-feed", exit_on_error=False)
    async def _search_everywhere(self, tags: tuple[tuple[str, str], ...]) -> None:
        """Jaeger's search needs a service: ask each one for spans with these tags."""
        from meshtui.jaeger.client import JAEGER_SELF

        form = self.query_one(SearchForm)
        query = TraceQuery("*", tags=tags)
        try:
            client = await self._client()
            merged: dict[str, Found] = {}
            for service in await client.services():
                if service in JAEGER_SELF:
                    continue
                query = TraceQuery(service, tags=tags, lookback=form.value("lookback") or "1h", limit=20)
                for t in await client.find_traces(query):
                    merged.setdefault(t.trace_id, Found(summarize(t), t))
            self.post_message(TracesFound(TraceSearch(query, at=time.time()), tuple(merged.values())))
        except BACKEND_ERRORS as exc:
            self.post_message(TracesFound(TraceSearch(query, error=str(exc), at=time.time()), ()))

    @work(exclusive=True, group="jaeger-lookup", exit_on_error=False)
    async def _lookup(self, text: str) -> None:
        text = text.strip()
        try:
            client = await self._client()
            if _HEX_ID.match(text):
                self.post_message(Progress(f"reading trace {text} ..."))
                trace = await client.get_trace(text)
                what = f"trace {text}"
            else:
                self.post_message(Progress(f"searching every service for x-request-id {text} ..."))
                trace = await client.find_by_request_id(text)
                what = f"a trace with x-request-id {text}"
        except BACKEND_ERRORS as exc:
            self.post_message(Progress(str(exc), error=True))
            return
        if trace is None:
            self.post_message(Progress(f"Jaeger has no {what}", error=True))
            return
        self.post_message(await asyncio.to_thread(opened, trace))

    @work(exclusive=True, group="jaeger-lookup", exit_on_error=False)
    async def _force(self, target: str, host: str) -> None:
        from meshtui.jaeger.force import TraceWait, gateway_url, send_forced, why_missing

        forward = None
        try:
            client = await self._client()
            if target.startswith(("http://", "https://")):
                url = target
            else:
                if self.access is None:
                    raise JaegerError(
                        "force-trace through the gateway needs the cluster: give an http:// URL"
                    )
                url, forward = await gateway_url(self.access, target)
            self.post_message(Progress(f"sending GET {target} Host: {host} with x-envoy-force-trace ..."))
            sent = await send_forced(url, host)
        except BACKEND_ERRORS as exc:
            self.post_message(Progress(str(exc), error=True))
            return
        finally:
            if forward is not None and self.access is not None:
                await self.access.manager.release(forward)
        rid, trace = sent.request_id, None
        self.forced = sent
        async with contextlib.aclosing(TraceWait(client, rid).updates()) as steps:
            async for step in steps:
                trace = step.trace
                state = f"{len(trace.spans)} spans so far" if trace else "not in Jaeger yet"
                if step.error:
                    state += f" (Jaeger: {step.error}, retrying)"
                self.post_message(
                    Progress(
                        f"{sent.status} x-request-id {rid}: {state}, {step.left:.0f}s left", bool(step.error)
                    )
                )
                if step.done:
                    break
        if trace is None:
            self.post_message(
                Progress(
                    f"x-request-id {rid} never reached Jaeger in 30 s: check the sidecars' tracing health "
                    "(Config tab: tracer, collector endpoint, zipkin cluster)",
                    error=True,
                )
            )
            return
        notes = []
        for hop in missing_hops(trace):
            why = await why_missing(self.access, hop) if self.access is not None else None
            notes.append(
                f"no spans from {hop.service} ({hop.caller} called {hop.cluster})"
                + (f": {why}" if why else "")
            )
        note = f"forced x-request-id {rid}" + ("; " + "; ".join(notes) if notes else "")
        self.post_message(await asyncio.to_thread(opened, trace, note))

    # -- messages ----------------------------------------------------------------------

    @on(JaegerReady)
    def _ready(self, message: JaegerReady) -> None:
        if message.link is None:
            self._jaeger_line(message.error, True)
            self._state("")
            return
        self.link = message.link
        self._linked.set()
        self._jaeger_line(f"Jaeger {message.link.where} · {message.link.api}", False)
        self.query_one(SearchForm).set_services(list(message.services))
        mesh = [s for s in message.services if not s.startswith("jaeger")]
        self._state(f"{len(mesh)} services in Jaeger: {', '.join(mesh[:6])}" if mesh else "no services yet")

    @on(TracesFound)
    def _found(self, message: TracesFound) -> None:
        u = message.update
        show_freshness(u.freshness, self.query_one("#traces-results"))
        if u.error:
            # the last results stay, dimmed: Jaeger did not answer this search
            self._state(stale_line(u.freshness, u.error), error=True)
            return
        self.found = {f.summary.trace_id: f for f in message.found}
        self._fill_results()
        errors = sum(1 for f in message.found if f.summary.error_count)
        auto = " · auto-refresh on" if self.auto_search else ""
        at = time.strftime("%H:%M:%S", time.localtime(u.at))
        self._state(
            f"{len(message.found)} traces ({errors} with errors) at {at} · sorted by {self.sort_by}{auto}"
        )

    @on(TraceOpened)
    def _opened(self, message: TraceOpened) -> None:
        self.trace_tree, self.summary = message.trace_tree, message.summary
        s = message.summary
        title = Text()
        title.append(f"trace {s.trace_id}  ", style="bold")
        duration = fmt_us(message.trace_tree.duration_us)
        title.append(f"{fmt_start(s.start_us)}  {duration}  {s.span_count} spans  ")
        if s.error_count:
            title.append(f"{s.error_count} errors", style="bold red")
        self.query_one("#traces-title", Static).update(title)
        self._state(message.note, error="no spans from" in message.note)
        self.query_one("#traces-body", ContentSwitcher).current = "traces-trace"
        waterfall = self.query_one(Waterfall)
        waterfall.show(message.trace_tree)
        waterfall.focus()

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        self._state(message.text, message.error)

    @on(RowsView.Highlighted, "#traces-waterfall")
    def _span_highlighted(self, message: RowsView.Highlighted) -> None:
        # the detail follows once the cursor rests: its re-layout stays out of each key
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY_S, self._show_detail)

    def _show_detail(self) -> None:
        self._detail_timer = None
        waterfall = self.query_one(Waterfall)
        self.query_one(SpanDetail).show(waterfall.trace_tree, waterfall.node)

    @on(DataTable.RowSelected, "#traces-results")
    def _result_selected(self, message: DataTable.RowSelected) -> None:
        found = self.found.get(str(message.row_key.value))
        if found is not None and found.tree is not None:
            self.post_message(TraceOpened(found.tree, found.summary))
        elif found is not None:
            self._open(found.trace)

    @work(exclusive=True, group="jaeger-lookup", exit_on_error=False)
    async def _open(self, trace: Trace, note: str = "") -> None:
        # the span tree of a big trace is built in a thread: keys stay answered meanwhile
        self.post_message(await asyncio.to_thread(opened, trace, note))

    @on(Input.Submitted)
    def _submitted(self, message: Input.Submitted) -> None:
        message.stop()
        if message.input.id == "tr-lookup" and message.value.strip():
            self._lookup(message.value)
        elif message.input.id in ("tr-url", "tr-host"):
            self.action_force()
        elif message.input.id != "tr-lookup" and self.action_search():
            self.query_one("#traces-results", DataTable).focus()  # the results' keys now; a refusal stays

    # -- actions -----------------------------------------------------------------------

    def action_search(self) -> bool:
        try:
            query = self.query_one(SearchForm).trace_query()
        except QueryError as exc:
            self._state(str(exc), error=True)
            return False
        self._query = query
        self._state(f"searching {query.service} over the last {query.lookback} ...")
        self.query_one("#traces-body", ContentSwitcher).current = "traces-results"
        self._search(query)
        return True

    # set_focus, not focus() (a message hop later): the keys typed next are for the box
    def action_focus_search(self) -> None:
        self.screen.set_focus(self.query_one("#tr-service", Input))

    def action_focus_lookup(self) -> None:
        self.screen.set_focus(self.query_one("#tr-lookup", Input))

    def action_force(self) -> None:
        target = self.query_one("#tr-url", Input).value.strip() or "/"
        host = self.query_one("#tr-host", Input).value.strip()
        self._force(target, host)

    def action_sort(self) -> None:
        self.sort_by = "duration" if self.sort_by == "start" else "start"
        self._fill_results()
        self._state(f"sorted by {self.sort_by}")

    def action_auto(self) -> None:
        self.auto_search = not self.auto_search
        self._state(
            f"auto-refresh {f'on: every {AUTO_REFRESH_S:g} s while shown' if self.auto_search else 'off'}"
        )
        if self.feed is not None:
            self.feed.set_interval(AUTO_REFRESH_S if self.auto_search else None)
        elif self.auto_search and self._query is not None:
            self._search(self._query)

    def action_back(self) -> None:
        self.query_one("#traces-body", ContentSwitcher).current = "traces-results"
        self.query_one("#traces-results", DataTable).focus()

    # -- drawing -----------------------------------------------------------------------

    def _fill_results(self) -> None:
        fill_results(self.query_one("#traces-results", Table), self.found, self.sort_by)

    def _state(self, text: str, error: bool = False) -> None:
        self.query_one("#traces-state", StateLine).say(text, error)

    def _jaeger_line(self, text: str, error: bool) -> None:
        line = self.query_one("#traces-jaeger", Static)
        line.update(text)
        line.set_class(error, "error")

    async def on_unmount(self) -> None:
        if self.link is not None:
            from meshtui.jaeger.locate import close_jaeger

            link, self.link = self.link, None
            await close_jaeger(link, self.access)
