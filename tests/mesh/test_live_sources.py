"""Every live source goes stale and recovers the same way (meshtui/live.py): the sidecar's
stats and clusters (a real Envoy), istiod's 15014 (through a real port-forward of the
simulated API server) and Jaeger's query service. A relay in front of each is cut: within
two intervals the view dims its figures and says "stale since HH:MM:SS: <why>, retrying";
restored, it comes back undimmed, and its first rate is made of two answered polls, never
one across the gap."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from textual.widget import Widget
from textual.widgets import Input, TabbedContent

from helpers.istiod_fake import fake_istiod, sim_cluster
from helpers.relay import Relay, relay_to
from helpers.spans import envoy_spans
from helpers.wait import until
from meshtui.demo.tracestore import TraceStore
from meshtui.demo.tracestore_api import QueryApi
from meshtui.envoy.clusters_feed import ClustersUpdate
from meshtui.envoy.feed import StatsUpdate
from meshtui.istiod.live import IstiodUpdate
from meshtui.jaeger.live import TraceSearch
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.istiod.pane import IstiodPane
from meshtui.ui.traces.pane import TracesPane

INTERVAL = 0.3
SLACK = 1.5  # a loaded CI machine's scheduling, on top of two intervals


@dataclass
class Source:
    """One live view: how to reach it, where it draws, what a rate in its update is."""

    kind: type  # its updates
    pane: Callable[[MeshtuiApp], Widget]
    state: str  # the view's one-line state
    has_rate: Callable[[Any], bool] | None  # None: the view shows no rates (trace search)


SOURCES = {
    "envoy-stats": Source(
        StatsUpdate, lambda app: app.stats, "#stats-state", lambda u: bool(u.snapshot.rates)
    ),
    "envoy-clusters": Source(
        ClustersUpdate, lambda app: app.clusters, "#clusters-state", lambda u: bool(u.snapshot.rq_rate)
    ),
    "istiod": Source(
        IstiodUpdate,
        lambda app: app.query_one(IstiodPane),
        "#istiod-state",
        lambda u: u.total.interval is not None,
    ),
    "jaeger": Source(TraceSearch, lambda app: app.query_one(TracesPane), "#traces-state", None),
}


@contextlib.asynccontextmanager
async def envoy(mesh, tab: str) -> AsyncIterator[tuple[MeshtuiApp, Relay, Any]]:
    async with relay_to(mesh.info["admin"]["webapp"]) as (relay, url):
        app = MeshtuiApp(Options(admin=url, interval=INTERVAL, stats_filter="cluster.outbound|80||catalog"))

        async def show(pilot: Any) -> None:
            await pilot.pause()  # after the start-up focus, which shows the Stats tab
            app.query_one(TabbedContent).active = tab

        yield app, relay, show


@contextlib.asynccontextmanager
async def istiod(tmp_path) -> AsyncIterator[tuple[MeshtuiApp, Relay, Any]]:
    with fake_istiod() as fake:
        async with relay_to(fake.url) as (relay, _):
            # the pod's 15014 is the relay: the port-forward of the API server is real
            with sim_cluster(tmp_path, {"istiod-7d4f5d6c9-x8kqn": relay.port}) as k8s:
                app = MeshtuiApp(Options(kubeconfig=str(k8s.kubeconfig), interval=INTERVAL))

                async def show(pilot: Any) -> None:
                    await pilot.press("2")

                yield app, relay, show


@contextlib.asynccontextmanager
async def jaeger(mesh, monkeypatch) -> AsyncIterator[tuple[MeshtuiApp, Relay, Any]]:
    monkeypatch.setattr("meshtui.ui.traces.pane.AUTO_REFRESH_S", INTERVAL)
    store = TraceStore()
    store.add_zipkin(envoy_spans())
    runner = web.AppRunner(QueryApi(store).app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with relay_to(f"http://127.0.0.1:{port}") as (relay, url):
            app = MeshtuiApp(Options(admin=mesh.info["admin"]["webapp"], jaeger_url=url, interval=3600))

            async def show(pilot: Any) -> None:
                await pilot.press("3")
                pane = app.query_one(TracesPane)
                await until(lambda: pane.link is not None, 10, "Jaeger found")
                app.query_one("#tr-lookback", Input).value = "15m"
                app.query_one("#tr-service", Input).focus()
                await pilot.press(*"webapp.istioinaction", "enter", "escape")
                pane.query_one("#traces-results").focus()
                await pilot.press("a")  # auto-refresh: the search becomes live

            yield app, relay, show
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("name", list(SOURCES))
async def test_a_cut_source_goes_stale_within_two_intervals_and_recovers_without_a_rate_across_the_gap(
    name, mesh, tmp_path, monkeypatch
):
    source = SOURCES[name]
    if name.startswith("envoy"):
        setup = envoy(mesh, "tab-stats" if name == "envoy-stats" else "tab-clusters")
    elif name == "istiod":
        setup = istiod(tmp_path)
    else:
        setup = jaeger(mesh, monkeypatch)
    updates: list[Any] = []

    def hook(message: object) -> None:
        update = getattr(message, "update", None)
        if isinstance(update, source.kind):
            updates.append(update)

    async with setup as (app, relay, show), app.run_test(size=(160, 48), message_hook=hook) as pilot:
        await show(pilot)
        pane = source.pane(app)
        state = pane.query_one(source.state)

        def fresh_updates() -> list[Any]:
            return [u for u in updates if not u.freshness.stale and not getattr(u, "error", None)]

        if source.has_rate is not None:
            await until(lambda: any(source.has_rate(u) for u in fresh_updates()), 20, f"{name}: a rate")
        else:
            await until(lambda: fresh_updates(), 20, f"{name}: an answer")
        assert not pane.freshness.stale

        await relay.cut()
        cut_at = time.monotonic()
        await until(lambda: pane.freshness.stale, 2 * INTERVAL + SLACK, f"{name}: stale")
        assert time.monotonic() - cut_at <= 2 * INTERVAL + SLACK
        await pilot.pause()
        # the same marking in every view: figures dimmed, one line saying since when and why
        text = str(state.render())
        assert text.startswith("stale since ") and text.endswith(", retrying"), text
        assert "\n" not in text
        assert pane.query(".stale"), f"{name}: nothing dimmed"

        n = len(updates)
        await relay.start()
        await until(lambda: not pane.freshness.stale, 15, f"{name}: fresh again")
        await pilot.pause()
        assert not pane.query(".stale"), f"{name}: still dimmed"
        assert not str(state.render()).startswith("stale since ")
        after = [u for u in updates[n:] if not u.freshness.stale]
        assert after[0].freshness.fresh_polls == 1
        if source.has_rate is not None:
            assert not source.has_rate(after[0]), f"{name}: a rate across the gap"
            await until(
                lambda: any(source.has_rate(u) for u in updates[n:] if not u.freshness.stale),
                15,
                f"{name}: rates back",
            )
            first_rate = next(u for u in updates[n:] if not u.freshness.stale and source.has_rate(u))
            assert first_rate.freshness.fresh_polls >= 2
