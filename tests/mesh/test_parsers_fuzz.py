"""Parsers that never crash: every parser raises only its own error, whatever it is fed.

A sidecar of another Envoy version, a truncated read or a hand-edited file can send any
shape. Each parser gets 10,000 bodies at the text level (random text, and real bodies
with characters inserted, deleted, swapped or cut off) and 10,000 at the structure level
(real JSON bodies with values swapped for null, numbers, strings, lists or objects, or
keys removed). Anything but the parser's own error fails the test, and what does parse
must have the types the views rely on.

The base bodies are real: the shared captures, and bodies taken from the demo's real
Envoy at the start of the module, each cut to a few entries per list so one example
costs well under a millisecond.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from meshtui.envoy.clusters import ClustersFormatError, ClustersTracker, parse_clusters
from meshtui.envoy.config_dump import (
    SECTIONS,
    ConfigDumpError,
    bootstrap_of,
    check_config_dump,
    parse_config_dump,
    rows,
    sampling_of,
    tracing_of,
)
from meshtui.envoy.stats import Stat, StatsFormatError, parse_body, parse_json, parse_text, text_records
from meshtui.envoy.tracker import StatsTracker

# 10,000 examples per parser: hypothesis draws a seed and a bit of text, and the seed
# steers cheap mutations of a real body (hypothesis's own per-draw cost is ~1 ms here,
# so drawing every edit from it would make the four tests take minutes).
MANY = settings(
    # CI replays the same examples every run (a landing must not hinge on a lucky draw);
    # a developer's runs explore new ones
    derandomize=bool(os.environ.get("CI")),
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,  # CI starts clean; a local example database would make runs differ
)
SEEDS = {"seed": st.integers(0, 2**32 - 1), "noise": st.text(max_size=24)}
KEEP = 4  # entries kept per list of a real body: every shape, few repeats
JSONISH = '{}[]",:\n 0123456789.-+eEPnaNul()"\\\x00é'


def trimmed(node: Any, keep: int = KEEP) -> Any:
    if isinstance(node, dict):
        return {k: trimmed(v, keep) for k, v in node.items()}
    if isinstance(node, list):
        return [trimmed(v, keep) for v in node[:keep]]
    return node


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON document a value sits (the root excluded)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from paths(value, (*prefix, key))


def swap_value(rng: random.Random, noise: str) -> Any:
    return rng.choice(
        (
            None,
            True,
            False,
            0,
            -1,
            2**70,
            1.5,
            -0.0,
            math.nan,
            math.inf,
            "",
            noise,
            "12",
            "not a number",
            [],
            {},
            [None, 1, noise],
            {noise: None},
            {"name": noise},
            [[[]]],
        )
    )


def mutate(doc: Any, path: tuple[Any, ...], op: str, value: Any) -> Any:
    """A copy of `doc` with one change at `path`; only the containers on the path are copied."""
    if not path:
        return value if op == "swap" else [doc] if op == "wrap" else doc
    head, rest = path[0], path[1:]
    if isinstance(doc, dict) and head in doc:
        out = dict(doc)
        if op == "delete" and not rest:
            del out[head]
        else:
            out[head] = mutate(doc[head], rest, op, value)
        return out
    if isinstance(doc, list) and isinstance(head, int) and head < len(doc):
        items = list(doc)
        if op == "delete" and not rest:
            del items[head]
        else:
            items[head] = mutate(doc[head], rest, op, value)
        return items
    return doc  # an earlier change removed this place


def structure_variant(rng: random.Random, base: Any, places: list[tuple[Any, ...]], noise: str) -> Any:
    """The real document with 1-3 values swapped for another JSON type, removed or wrapped in a list."""
    doc = base
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(("swap", "swap", "delete", "wrap"))
        doc = mutate(doc, rng.choice(places), op, swap_value(rng, noise))
    return doc


def text_variant(rng: random.Random, base: str, noise: str) -> str:
    """Random text, or the real body with a few edits: runs inserted, deleted, replaced, cut short."""
    if rng.random() < 0.15:
        return noise + "".join(rng.choices(JSONISH, k=rng.randint(0, 40)))
    text = base
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(text))
        piece = rng.choice((noise, "".join(rng.choices(JSONISH, k=rng.randint(1, 6)))))
        op = rng.choice(("insert", "delete", "replace", "cut", "repeat"))
        if op == "insert":
            text = text[:at] + piece + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + rng.randint(1, 8) :]
        elif op == "replace":
            text = text[:at] + piece + text[at + len(piece) :]
        elif op == "cut":
            text = text[:at]
        else:
            text = text[:at] + text[at : at + 40] * 2 + text[at + 40 :]
    return text


STAT_VALUES = (
    "",
    "-",
    "nan",
    "1e999",
    "9" * 5000,
    "0x10",
    "1_000",
    "²",
    '"',
    '"unterminated',
    "No recorded values",
    "P50(nan,",
    "P50(x,1)",
    "P0(nan,1) P25(1e999,nan)",
    "P()",
    "-3",
    "1.5",
)


def line_variant(rng: random.Random, lines: list[str], noise: str) -> str:
    """The real stats text, line by line: lines dropped, repeated, values swapped between
    lines or for another kind, names or separators broken."""
    out = list(lines)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(out))
        name, _, value = out[i].partition(": ")
        op = rng.choice(("drop", "repeat", "value", "other", "name", "sep"))
        if op == "drop":
            del out[i]
        elif op == "repeat":
            out.insert(i, out[i])
        elif op == "value":
            out[i] = f"{name}: {rng.choice((*STAT_VALUES, noise))}"
        elif op == "other":
            out[i] = f"{name}: {rng.choice(lines).partition(': ')[2]}"
        elif op == "name":
            out[i] = f"{rng.choice(('', noise, ':', ' '))}: {value}"
        else:
            out[i] = name + rng.choice(("", ":", " : ", ":  ")) + value
        if not out:
            out = [noise]
    return "\n".join(out)


# -- the real bodies ------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(mesh, fixtures: Path) -> dict[str, Any]:
    admin = mesh.info["admin"]["webapp"]

    def get(path: str, **params: str) -> str:
        r = httpx.get(admin + path, params=params, timeout=10, trust_env=False)
        r.raise_for_status()
        return r.text

    stats_doc = json.loads(get("/stats", format="json"))
    # the stats list is long: a few plain entries plus the histograms entry
    plain = [e for e in stats_doc["stats"] if "histograms" not in e][:20]
    hist = next(e for e in stats_doc["stats"] if "histograms" in e)
    hist = {
        "histograms": {
            "supported_quantiles": hist["histograms"]["supported_quantiles"],
            "computed_quantiles": hist["histograms"]["computed_quantiles"][:KEEP],
        }
    }
    stats_text = (fixtures / "seed" / "catalog-sidecar-stats.txt").read_text()
    lines = stats_text.splitlines()
    some_lines = [ln for ln in lines if "P0(" in ln][:3] + [ln for ln in lines if "P0(" not in ln][:40]
    upstream = json.loads((fixtures / "upstream/istio/productpage-v1-c7765c886-v99jb.json").read_text())
    demo_dump = json.loads(get("/config_dump", include_eds=""))
    clusters_text = get("/clusters", format="json")
    assert clusters_text.startswith('{\n "cluster_statuses": [\n  {')  # the layout copied below
    docs = {
        "stats_json": {"stats": [*plain, hist]},
        "clusters": trimmed(json.loads(clusters_text)),
        "config_upstream": trimmed(upstream),
        "config_demo": trimmed(demo_dump, 2),  # has the SPIFFE certificates the upstream one lacks
    }
    return {
        **docs,
        **{f"{k}_places": list(paths(v)) for k, v in docs.items()},
        "stats_lines": some_lines,
        "stats_text": "\n".join(some_lines) + "\n",
        "stats_json_text": json.dumps(docs["stats_json"], indent=1),
        # Envoy's own layout (one-space indent), so the piecewise decoder is the one fed
        "clusters_text": json.dumps(docs["clusters"], indent=1),
        "config_text": json.dumps(docs["config_upstream"], indent=1),
    }


# -- what each parser may do ------------------------------------------------------------


def only(error: type[Exception], call: Callable[[], object]) -> object:
    try:
        return call()
    except error:
        return None


def check_stats(stats: object) -> None:
    if stats is None:
        return
    assert isinstance(stats, list)
    for s in stats:
        assert isinstance(s, Stat) and isinstance(s.name, str)
        assert s.value is None or isinstance(s.value, (int, float, str))
        for label, q in s.quantiles.items():
            assert isinstance(label, str)
            for v in (q.interval, q.cumulative):
                assert v is None or isinstance(v, float)


def stats_text_parsers(body: str) -> None:
    check_stats(only(StatsFormatError, lambda: parse_text(body)))
    check_stats(only(StatsFormatError, lambda: parse_body(body)))
    only(StatsFormatError, lambda: text_records(body, keep=lambda n: "cluster" in n))
    tracker = StatsTracker()
    only(StatsFormatError, lambda: tracker.update(body, 1.0))
    only(StatsFormatError, lambda: tracker.update(body[::-1], 2.0))


def clusters_parser(body: str) -> None:
    found = only(ClustersFormatError, lambda: parse_clusters(body))
    if found is None:
        return
    assert isinstance(found, list)
    for c in found:
        assert isinstance(c.name, str)
        for h in c.hosts:
            assert isinstance(h.address, str) and isinstance(h.eds_health, str)
            assert isinstance(h.weight, int) and isinstance(h.locality, str)
            assert all(isinstance(n, str) and isinstance(v, int) for n, v in h.counters)
            _ = h.health, h.healthy
    snap = ClustersTracker().update(found, 1.0)
    assert all(math.isfinite(v) for v in snap.rq_rate.values())


def config_parser(doc: object) -> None:
    """Everything the config pane and `meshtui config` read from a dump."""
    try:
        checked = check_config_dump(doc)
    except ConfigDumpError:
        return
    for name in SECTIONS:
        only(ConfigDumpError, lambda name=name: rows(checked, name))
    only(ConfigDumpError, lambda: sampling_of(checked))
    bootstrap = only(ConfigDumpError, lambda: bootstrap_of(checked))
    if bootstrap is not None:
        assert isinstance(bootstrap, dict)
        tracing = only(ConfigDumpError, lambda: tracing_of(bootstrap))
        assert tracing is None or isinstance(tracing, dict)


# -- the four parsers ----------------------------------------------------------------


@MANY
@given(**SEEDS)
def test_stats_text_parsers(real, seed, noise):
    rng = random.Random(seed)
    for body in (
        text_variant(rng, real["stats_text"], noise),
        line_variant(rng, real["stats_lines"], noise),
    ):
        note(repr(body)[:2000])
        stats_text_parsers(body)


@MANY
@given(**SEEDS)
def test_stats_json_parser(real, seed, noise):
    rng = random.Random(seed)
    base = real["stats_json"]
    for body in (
        text_variant(rng, real["stats_json_text"], noise),
        json.dumps(structure_variant(rng, base, real["stats_json_places"], noise)),
    ):
        note(repr(body)[:2000])
        check_stats(only(StatsFormatError, lambda body=body: parse_json(body)))
        check_stats(only(StatsFormatError, lambda body=body: parse_body(body)))


@MANY
@given(**SEEDS)
def test_clusters_parser(real, seed, noise):
    rng = random.Random(seed)
    doc = structure_variant(rng, real["clusters"], real["clusters_places"], noise)
    # text level on Envoy's own layout, which takes the piecewise decoder
    for body in (text_variant(rng, real["clusters_text"], noise), json.dumps(doc), json.dumps(doc, indent=1)):
        note(repr(body)[:2000])
        clusters_parser(body)


@MANY
@given(**SEEDS)
def test_config_dump_parser(real, seed, noise):
    rng = random.Random(seed)
    body = text_variant(rng, real["config_text"], noise)
    note(repr(body)[:2000])
    with contextlib.suppress(ConfigDumpError):
        config_parser(parse_config_dump(body))
    which = rng.choice(("config_upstream", "config_demo"))
    doc = structure_variant(rng, real[which], real[which + "_places"], noise)
    note(repr(doc)[:2000])
    config_parser(doc)


def test_deep_nesting_is_a_format_error():
    deep = "[" * 100_000 + "]" * 100_000
    for call, error in (
        (parse_json, StatsFormatError),
        (parse_body, StatsFormatError),
        (parse_clusters, ClustersFormatError),
        (parse_config_dump, ConfigDumpError),
    ):
        with pytest.raises(error):
            call(deep)
        with pytest.raises(error):
            call('{"stats": ' + deep[:50_000] + "]" * 0 + "}")


def test_the_issue_case_non_dict_config_entry(real):
    """The reported crash: a `configs` entry that is not an object was `c.get` on a list."""
    doc = dict(real["config_upstream"])
    doc["configs"] = [*doc["configs"], ["not", "an", "object"], None]
    checked = check_config_dump(doc)
    assert rows(checked, "clusters")  # the good entries still read
    with pytest.raises(ConfigDumpError):
        check_config_dump({"configs": "nope"})
