"""The Jaeger client against the demo's query service: base path and API found, services,
operations, search with tags, one trace, lookup by x-request-id; classic under /jaeger
and /api/v3 only under / (the newest Jaeger); and the live headless commands."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from helpers.spans import TRACE, envoy_spans
from meshtui.cli import main
from meshtui.demo.tracestore import TraceStore, zipkin_to_span
from meshtui.demo.tracestore_api import QueryApi
from meshtui.jaeger.client import CLASSIC, V3, JaegerClient, JaegerError
from meshtui.jaeger.query import TraceQuery
from meshtui.jaeger.tree import build_tree


def test_zipkin_span_converted_as_jaegers_collector_does():
    span = zipkin_to_span(envoy_spans(status="503")[2])
    assert span.trace_id == TRACE and span.span_id == "c000000000000003"
    assert span.references[0].ref_type == "CHILD_OF" and span.references[0].span_id == "b000000000000002"
    tags = {kv.key: kv.value for kv in span.tags}
    assert tags["span.kind"] == "client" and tags["net.host.ip"] == "10.10.0.1"
    # `error: "true"` becomes the error status: otel.status_code=ERROR and a bool error tag
    assert tags["otel.status_code"] == "ERROR" and tags["error"] is True and span.is_error
    assert tags["http.status_code"] == "503"  # strings stay strings (parse_string_tags off)
    assert span.service == "webapp.istioinaction"
    assert zipkin_to_span({"traceId": "1", "id": "2"}).trace_id == "0" * 31 + "1"


@pytest.fixture
async def jaeger(request) -> AsyncIterator[tuple[str, TraceStore]]:
    base, classic = request.param
    store = TraceStore()
    store.add_zipkin(envoy_spans())
    store.add_zipkin(envoy_spans("0" * 31 + "2", rid="rid-2", status="503"))
    runner = web.AppRunner(QueryApi(store, base, classic=classic).app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", store
    finally:
        await runner.cleanup()


BOTH = pytest.mark.parametrize(
    ("jaeger", "want"),
    [(("/jaeger", True), (CLASSIC, "/jaeger")), (("", False), (V3, ""))],
    indirect=["jaeger"],
    ids=["istio-addon-classic", "newest-v3-only"],
)


@BOTH
async def test_client_finds_base_path_and_api_and_searches(jaeger, want):
    url, _ = jaeger
    client = JaegerClient(url)
    try:
        api = await client.detect()
        assert (api.api, api.base_url) == (want[0], url + want[1])
        assert await client.services() == [
            "catalog.istioinaction",
            "istio-ingressgateway.istio-system",
            "webapp.istioinaction",
        ]
        assert "catalog.istioinaction.svc.cluster.local:80/*" in await client.operations(
            "catalog.istioinaction"
        )
        found = await client.find_traces(TraceQuery("webapp.istioinaction", lookback="15m"))
        assert sorted(t.trace_id.lstrip("0") for t in found) == ["2", TRACE]
        errors = await client.find_traces(
            TraceQuery("catalog.istioinaction", tags=(("http.status_code", "503"),), lookback="15m")
        )
        assert [t.trace_id.lstrip("0") for t in errors] == ["2"]
        none = await client.find_traces(TraceQuery("webapp.istioinaction", min_duration="1s"))
        assert none == []
        trace = await client.get_trace(TRACE)
        assert trace is not None
        tree = build_tree(trace)
        assert [n.span.span_id for n in tree.nodes] == [
            "a000000000000001",
            "b000000000000002",
            "c000000000000003",
            "d000000000000004",
        ]
        assert [n.depth for n in tree.nodes] == [0, 1, 2, 3] and tree.node(
            "d000000000000004"
        ).offset_us == 1500
        assert await client.get_trace("ffff") is None
        by_rid = await client.find_by_request_id("rid-2")
        assert by_rid is not None and by_rid.trace_id.lstrip("0") == "2"
    finally:
        await client.aclose()


async def test_client_errors_are_one_line():
    client = JaegerClient("http://127.0.0.1:9")
    with pytest.raises(JaegerError, match="refused"):
        await client.detect()
    await client.aclose()


@BOTH
async def test_headless_live_traces_and_trace(jaeger, want, capsys):
    url, _ = jaeger
    argv = [
        "traces",
        "--jaeger-url",
        url,
        "--service",
        "catalog.istioinaction",
        "--tag",
        "http.status_code=503",
    ]
    assert await asyncio.to_thread(main, [*argv, "--json"]) == 0
    (trace,) = json.loads(capsys.readouterr().out)
    assert trace["errorCount"] == 4 and trace["spanCount"] == 4
    assert trace["rootService"] == "istio-ingressgateway.istio-system"
    assert await asyncio.to_thread(main, ["trace", TRACE, "--jaeger-url", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + 4 and "catalog.istioinaction: catalog" in lines[-1]
    assert await asyncio.to_thread(main, ["trace", "--request-id", "rid-1", "--jaeger-url", url]) == 0
    assert TRACE in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["trace", "ffff", "--jaeger-url", url]) == 2
    assert capsys.readouterr().err.strip() == "meshtui: Jaeger has no trace ffff"
    # a service Jaeger does not list is an error naming what it lists, not an empty table
    argv = ["traces", "--jaeger-url", url, "--service"]
    assert await asyncio.to_thread(main, [*argv, "nosuchservice"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("meshtui: no service 'nosuchservice' in Jaeger (Jaeger lists") and "\n" not in err
    assert "webapp.istioinaction" in err
    assert await asyncio.to_thread(main, [*argv, "webap.istioinaction"]) == 2
    assert "did you mean webapp.istioinaction?" in capsys.readouterr().err
