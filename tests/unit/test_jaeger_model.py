"""Jaeger answers (classic and /api/v3) into spans, the span tree and trace summaries."""

from __future__ import annotations

import json

import pytest

from helpers.jaeger_bodies import classic_body, classic_span, classic_trace, otlp_body, otlp_span
from meshtui.jaeger import classic, otlp
from meshtui.jaeger.model import JaegerFormatError
from meshtui.jaeger.query import QueryError, TraceQuery, duration_us, lookback_seconds, parse_tag
from meshtui.jaeger.tree import build_tree, summarize


def test_ui_trace_capture_gives_parents_offsets_and_durations(fixtures):
    body = (fixtures / "upstream/jaeger-analytics-java/ui-trace.json").read_text()
    traces, errors = classic.parse_traces(body)
    assert errors == ()
    (trace,) = traces
    tree = build_tree(trace)
    root, child = tree.nodes
    assert (root.span.operation, root.parent, root.offset_us, root.duration_us) == (
        "/api/services/{service}/operations",
        None,
        0,
        4199,
    )
    assert child.span.operation == "GetOperations"
    assert child.parent == "2db17286b3e6b148" and child.ref_type == "CHILD_OF" and child.depth == 1
    assert (child.offset_us, child.duration_us) == (1571326774777428 - 1571326774777373, 3873)
    assert child.span.service == "jaeger-query"
    assert ("hostname", "simple-streaming-query-66f49db66-8x9hd") in {
        (kv.key, kv.text()) for kv in child.span.process_tags
    }
    s = summarize(trace)
    assert (s.root_service, s.span_count, s.duration_us, s.error_count) == ("jaeger-query", 2, 4199, 0)


def test_follows_from_capture_hangs_from_its_reference(fixtures):
    body = (fixtures / "upstream/jaeger-ui/2992f2a5b5d037a8aabffd08ef384237.json").read_text()
    (trace,) = classic.parse_traces(body)[0]
    tree = build_tree(trace)
    assert [n.span.operation for n in tree.nodes] == ["demo", "thread"]
    thread = tree.node("1bdf4201221bb2ac")
    assert thread.parent == "ea7cfaca83f0724b" and thread.ref_type == "FOLLOWS_FROM"
    assert thread.offset_us == 1509533706521220 - 1509533706470949 and thread.duration_us == 1173
    assert tree.duration_us == 70406


@pytest.mark.parametrize("name", ["GetTrace.json", "FindTraces.json"])
def test_v3_snapshots_from_jaeger(fixtures, name):
    (trace,) = otlp.parse_traces_data((fixtures / "upstream/jaeger-v3" / name).read_text())
    (span,) = trace.spans
    assert trace.trace_id == "000000000000009600000000000000a0"
    assert span.span_id == "00000000000000b4" and span.operation == "foobar"
    assert span.tag("span.kind") == "server" and span.is_error  # status code 2 = ERROR
    assert span.start_us == 11651379494838206464 // 1000 and span.duration_us == 0


def test_v3_links_events_resource_and_status_as_jaegers_translator_does():
    tid = "0af7651916cd43dd8448eb211c80319c"
    body = otlp_body(
        {
            "istio-ingressgateway.istio-system": [otlp_span("00000000000000a1", "gw", 1_000_000, 9_000_000)],
            "webapp.istioinaction": [
                otlp_span(
                    "00000000000000b2",
                    "webapp",
                    2_000_000,
                    8_000_000,
                    parent="00000000000000a1",
                    attrs={"guid:x-request-id": "rid-1"},
                    events=[{"timeUnixNano": "3000000", "name": "retry", "attributes": []}],
                    status={"code": "STATUS_CODE_ERROR", "message": "boom"},
                ),
                otlp_span(
                    "00000000000000c3",
                    "async",
                    8_500_000,
                    9_500_000,
                    kind=1,
                    links=[{"traceId": tid, "spanId": "00000000000000b2", "attributes": []}],
                ),
            ],
        }
    )
    (trace,) = otlp.parse_traces_data(body)
    tree = build_tree(trace)
    web = tree.node("b2")
    assert web.parent == "a1" and web.ref_type == "CHILD_OF" and web.offset_us == 1000
    assert web.span.service == "webapp.istioinaction" and web.span.is_error
    assert web.span.tag("otel.status_description") == "boom"
    assert web.span.logs[0].timestamp_us == 3000 and web.span.logs[0].fields[0].text() == "retry"
    follow = tree.node("c3")
    assert follow.parent == "b2" and follow.ref_type == "FOLLOWS_FROM"
    assert follow.span.tag("span.kind") == "internal"
    assert any(s.tag("guid:x-request-id") == "rid-1" for s in trace.spans)
    assert summarize(trace).error_count == 1


def test_missing_parent_stays_visible_at_the_root_and_marked():
    spans = [
        classic_span("a", "root", 100, 50, pid="p1"),
        classic_span("b", "orphan", 120, 10, pid="p2", parent="ffff"),
    ]
    (trace,) = classic.parse_traces(classic_body([classic_trace(spans, {"p1": "gw", "p2": "catalog"})]))[0]
    tree = build_tree(trace)
    orphan = tree.node("b")
    assert orphan.parent is None and orphan.depth == 0 and orphan.missing_parent == "ffff"
    assert len(tree.nodes) == 2


def test_clock_skew_gives_no_negative_offset_and_no_bar_outside_the_trace():
    # catalog's clock runs 5 ms behind: its server span "starts" before webapp's client span
    spans = [
        classic_span("a", "gw", 1_000_000, 10_000, pid="p1"),
        classic_span("b", "webapp", 1_001_000, 8_000, pid="p2", parent="a"),
        classic_span("c", "catalog", 996_000, 2_000, pid="p3", parent="b"),
        classic_span("d", "catalog-db", 996_500, 1_000, pid="p3", parent="c"),
        classic_span("e", "late", 1_020_000, 50_000, pid="p3", parent="a"),  # longer than its parent
    ]
    procs = {"p1": "gw", "p2": "webapp", "p3": "catalog"}
    (trace,) = classic.parse_traces(classic_body([classic_trace(spans, procs)]))[0]
    tree = build_tree(trace)
    for n in tree.nodes:
        assert n.offset_us >= 0 and n.offset_us + n.duration_us <= tree.duration_us
        if n.parent and n.ref_type == "CHILD_OF":
            p = tree.node(n.parent)
            assert n.offset_us >= p.offset_us
    c, d = tree.node("c"), tree.node("d")
    assert c.skew_us == 1_001_000 - 996_000 and d.offset_us - c.offset_us == 500  # moved together
    assert tree.node("e").offset_us == 0
    # the results list and the waterfall header read one duration: the adjusted one
    s = summarize(trace)
    assert (s.start_us, s.duration_us) == (tree.start_us, tree.duration_us) == (1_000_000, 50_000)
    assert summarize(trace, tree) == s


def test_reference_cycles_and_duplicate_ids_keep_every_span():
    spans = [
        classic_span("a", "x", 10, 5, parent="b"),
        classic_span("b", "y", 11, 5, parent="a"),
        classic_span("c", "z", 12, 5, parent="c"),
        classic_span("c", "z2", 13, 5),
    ]
    (trace,) = classic.parse_traces(classic_body([classic_trace(spans, {"p1": "s"})]))[0]
    tree = build_tree(trace)
    assert sorted(n.span.operation for n in tree.nodes) == ["x", "y", "z", "z2"]
    assert len({n.key for n in tree.nodes}) == 4


@pytest.mark.parametrize(
    "body",
    [
        "",
        "<html>jaeger ui</html>",
        "[]",
        '{"data": 3}',
        '{"data": [{"spans": [{"spanID": "a"}]}]}',
        '{"data": [{"spans": [{"traceID": "t", "spanID": "a", "startTime": -1, "processID": "p"}],'
        ' "processes": {"p": {"serviceName": "s"}}}]}',
        '{"data": [{"spans": [{"traceID": "t", "spanID": "a", "startTime": 1, "processID": "nope"}]}]}',
        '{"data": [{"spans": [{"traceID": "t", "spanID": "a", "startTime": 1, "processID": "p",'
        ' "references": [{"refType": "SIBLING", "spanID": "b"}]}],'
        ' "processes": {"p": {"serviceName": "s"}}}]}',
        "[" * 5000,
    ],
)
def test_malformed_classic_bodies_raise_the_parse_error(body):
    with pytest.raises(JaegerFormatError):
        classic.parse_traces(body)


@pytest.mark.parametrize(
    "body",
    [
        '{"resourceSpans": 1}',
        '{"result": {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": "1"}]}]}]}}',
        '{"error": {"httpCode": 500, "message": "storage down"}}',
        '{"services": ["a"]}',
    ],
)
def test_malformed_v3_bodies_raise_the_parse_error(body):
    with pytest.raises(JaegerFormatError):
        otlp.parse_traces_data(body)


def test_names_from_both_apis():
    assert classic.parse_names('{"data": ["webapp", "catalog"], "total": 2}') == ["webapp", "catalog"]
    assert classic.parse_names('{"data": [{"name": "op", "spanKind": "server"}]}') == ["op"]
    assert otlp.parse_services('{"services": ["foo"]}') == ["foo"]
    assert otlp.parse_operations('{"operations": [{"name": "get_users", "spanKind": "server"}]}') == [
        "get_users"
    ]


def test_search_parameters_as_each_api_spells_them():
    q = TraceQuery(
        "webapp.istioinaction",
        operation="op",
        tags=(("http.status_code", "503"),),
        min_duration="100ms",
        max_duration="2s",
        lookback="15m",
        limit=7,
    ).check()
    classic_p = dict(q.classic_params(now=1000.0))
    assert classic_p["start"] == str(int((1000 - 900) * 1e6)) and classic_p["end"] == str(int(1000e6))
    assert json.loads(classic_p["tags"]) == {"http.status_code": "503"}
    assert (classic_p["minDuration"], classic_p["maxDuration"], classic_p["limit"]) == ("100ms", "2s", "7")
    v3 = dict(q.v3_params(now=1000.0))
    assert v3["query.service_name"] == "webapp.istioinaction"
    assert v3["query.start_time_min"] == "1970-01-01T00:01:40.000000Z"
    assert v3["query.search_depth"] == "7" and v3["query.duration_min"] == "100ms"
    assert lookback_seconds("2d") == 172800 and duration_us("1m30s") == 90e6
    assert parse_tag("guid:x-request-id=abc") == ("guid:x-request-id", "abc")
    for bad in (
        TraceQuery(""),
        TraceQuery("s", lookback="yesterday"),
        TraceQuery("s", min_duration="2s", max_duration="1s"),
        TraceQuery("s", min_duration="fast"),
        TraceQuery("s", limit=0),
    ):
        with pytest.raises(QueryError):
            bad.check()
    with pytest.raises(QueryError):
        parse_tag("no-equals")
