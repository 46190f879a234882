"""11,000 generated or mutated Jaeger answers (classic and /api/v3): the parsers, the span
tree and the summaries raise nothing but JaegerFormatError."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.jaeger_bodies import classic_body, classic_span, classic_trace, otlp_body, otlp_span
from meshtui.jaeger import classic, otlp
from meshtui.jaeger.model import JaegerFormatError
from meshtui.jaeger.text import summary_record, waterfall_lines
from meshtui.jaeger.tree import build_tree, summarize

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "upstream"
SEEDS: list[Any] = [
    json.loads((FIXTURES / p).read_text())
    for p in (
        "jaeger-analytics-java/ui-trace.json",
        "jaeger-ui/2992f2a5b5d037a8aabffd08ef384237.json",
        "jaeger-v3/GetTrace.json",
        "jaeger-v3/FindTraces.json",
    )
]
SEEDS.append(
    json.loads(
        classic_body(
            [
                classic_trace(
                    [
                        classic_span("a", "gw", 100, 50, tags={"error": True}),
                        classic_span("b", "web", 90, 20, pid="p2", parent="a"),
                        classic_span("c", "cat", 95, 5, pid="p2", parent="b", ref="FOLLOWS_FROM"),
                    ],
                    {"p1": "gw", "p2": "webapp"},
                )
            ]
        )
    )
)
SEEDS.append(
    json.loads(
        otlp_body(
            {
                "gw": [otlp_span("00000000000000a1", "gw", 10, 90)],
                "web": [
                    otlp_span(
                        "00000000000000b2",
                        "web",
                        20,
                        80,
                        parent="00000000000000a1",
                        events=[{"timeUnixNano": "30", "name": "e", "attributes": []}],
                        links=[{"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "00000000000000a1"}],
                    )
                ],
            }
        )
    )
)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(
        ["CHILD_OF", "FOLLOWS_FROM", "p1", "a", "0", "ffff", "STATUS_CODE_ERROR", "SPAN_KIND_SERVER"]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


WORDS = ["CHILD_OF", "FOLLOWS_FROM", "p1", "a", "0", "ffff", "STATUS_CODE_ERROR", "", "data", "spans"]


def rand_json(r: random.Random, depth: int = 0) -> Any:
    """Any JSON value, weighted towards the ones Jaeger's shapes hold."""
    kind = r.randrange(10 if depth < 3 else 7)
    if kind == 0:
        return None
    if kind == 1:
        return r.random() < 0.5
    if kind == 2:
        return r.choice([0, -1, 1, 2**63, 2**64, r.randrange(-(2**40), 2**40)])
    if kind == 3:
        return r.choice([0.5, -1.5, 1e300, 3.0])
    if kind in (4, 5, 6):
        return r.choice([*WORDS, "".join(chr(r.randrange(32, 0x2FF)) for _ in range(r.randrange(6)))])
    if kind in (7, 8):
        return [rand_json(r, depth + 1) for _ in range(r.randrange(4))]
    return {r.choice([*WORDS, "x"]): rand_json(r, depth + 1) for _ in range(r.randrange(4))}


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def mutate(seed: Any, r: random.Random) -> str:
    """One seed answer with 1-4 nodes replaced, deleted or duplicated, and sometimes its
    text cut or spliced."""
    doc = json.loads(json.dumps(seed))  # a deep copy
    for _ in range(r.randint(1, 4)):
        path = r.choice(_paths(doc))
        if not path:
            doc = rand_json(r)
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = r.choice(["replace", "replace", "delete", "duplicate"])
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(parent[path[-1]])
        else:
            parent[path[-1]] = rand_json(r)
    text = json.dumps(doc)
    if r.random() < 0.3:
        cut = r.randrange(len(text) + 1)
        text = text[:cut] + r.choice(["", "{", "]", '"', "\\u0000", "9" * 30]) + text[cut + 1 :]
    return text


def _all_parsers(body: str) -> int:
    """Every parser on one body; a parsed trace also goes through the tree and the text."""
    parsed = 0
    for parse in (
        lambda b: classic.parse_traces(b)[0],
        otlp.parse_traces_data,
        classic.parse_names,
        otlp.parse_services,
        otlp.parse_operations,
    ):
        try:
            result = parse(body)
        except JaegerFormatError:
            continue
        parsed += 1
        for trace in result:
            if isinstance(trace, str):
                continue
            tree, summary = build_tree(trace), summarize(trace)
            waterfall_lines(tree, summary)
            summary_record(summary, tree)
            for n in tree.nodes:
                assert n.offset_us >= 0 and n.offset_us + n.duration_us <= tree.duration_us
    return parsed


FUZZ = settings(
    max_examples=2000, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)


@FUZZ
@given(st.sampled_from(range(len(SEEDS))), st.randoms(use_true_random=False))
def test_mutated_answers_classic_and_v3(seed, r):
    """6,000 bodies: three mutations of a seed per example."""
    for _ in range(3):
        _all_parsers(mutate(SEEDS[seed], r))


@settings(FUZZ, max_examples=1000)
@given(JSON.map(json.dumps))
def test_generated_json(body):
    """1,000 bodies: any JSON value (hypothesis's own recursive strategy)."""
    _all_parsers(body)


@FUZZ
@given(st.randoms(use_true_random=False))
def test_generated_envelopes(r):
    """4,000 bodies: Jaeger's envelopes (classic, v3) with random contents, two per example."""
    for _ in range(2):
        _all_parsers(_envelope(r))


def _envelope(r: random.Random) -> str:
    if r.random() < 0.5:
        doc: Any = {k: rand_json(r) for k in ("data", "errors", "total") if r.random() < 0.7}
    else:
        spans = [
            {
                k: rand_json(r)
                for k in ("traceId", "spanId", "parentSpanId", "name", "kind", "status")
                if r.random() < 0.8
            }
            for _ in range(r.randrange(3))
        ]
        doc = {"result": {"resourceSpans": [{"resource": rand_json(r), "scopeSpans": [{"spans": spans}]}]}}
    return json.dumps(doc)


def test_seeds_parse():
    assert all(_all_parsers(json.dumps(seed)) >= 1 for seed in SEEDS)
