"""tests/ui: the app driven by Pilot on fakes (fixed pods, a loopback admin serving a
capture, the simulated Jaeger query service). Nothing here needs the demo mesh (asking for
it fails: such a test goes to tests/mesh)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from helpers.spans import envoy_spans
from meshtui.demo.tracestore import TraceStore
from meshtui.demo.tracestore_api import QueryApi


@pytest.fixture(scope="session")
def mesh() -> None:
    raise AssertionError("a ui test runs on fakes, not the demo mesh: one that needs it goes to tests/mesh")


@pytest.fixture
def store() -> TraceStore:
    return TraceStore()


@pytest.fixture
async def jaeger_url(store) -> AsyncIterator[str]:
    store.add_zipkin(envoy_spans())
    store.add_zipkin(envoy_spans("0" * 31 + "2", rid="rid-2", status="503"))
    runner = web.AppRunner(QueryApi(store).app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    finally:
        await runner.cleanup()
