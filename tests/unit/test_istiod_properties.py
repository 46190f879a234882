"""Property test: 10,000 generated or mutated istiod bodies; only IstiodFormatError escapes.

5,000 /metrics bodies (the seed capture mutated, or Prometheus-like text generated) go
through the parser, the summary and the metric browser; 5,000 syncz documents (the
captures mutated, or JSON generated) through the syncz parser.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.istiod_fake import SEED_METRICS, SYNCZ
from meshtui.istiod.browser import metric_rows
from meshtui.istiod.metrics import IstiodFormatError, ScrapeParser, parse_metrics
from meshtui.istiod.summary import summarise
from meshtui.istiod.syncz import parse_syncz, with_rejects

SEED_LINES = SEED_METRICS.read_text().splitlines()
SYNCZ_DOC = json.loads(SYNCZ.read_text())[:3]  # three proxies: every field shape, quick to mutate
DATA = Path(__file__).parents[1] / "data"
XDS_DOC = json.loads((DATA / "istioctl-multiXdsStatusSinglePilot.json").read_text())
SETTINGS = settings(
    # CI replays the same examples every run (a landing must not hinge on a lucky draw);
    # a developer's runs explore new ones
    derandomize=bool(os.environ.get("CI")),
    max_examples=5000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
SPECIAL = st.sampled_from(
    [*list('{}"=,# \n\t\\'), "+Inf", "-Inf", "NaN", "_total", "le=", "1e+06", "\x00", "é"]
)

names = st.sampled_from(
    ["pilot_xds", "pilot_xds_pushes", "pilot_proxy_convergence_time_bucket", "pilot_services", "x_total"]
) | st.text(alphabet="abcxyz_:019", min_size=1, max_size=12)  # from_regex is ten times slower
values = st.sampled_from(["1", "0", "-3", "NaN", "+Inf", "-Inf", "1e+300", "2.5", "x", ""]) | st.floats().map(
    repr
)
label_sets = st.dictionaries(
    st.sampled_from(["le", "type", "version", "node", "err", "reason", "tag", "component"]),
    st.sampled_from(["1", "+Inf", "0.5", "cds", "1.17.8", "pilot", "", 'a"b', "x\\y", "NaN", "-1"]),
    max_size=2,
)


@st.composite
def generated_body(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 12))):  # every draw costs: a dozen lines covers the grammar
        name = draw(names)
        if draw(st.booleans()):
            kind = draw(
                st.sampled_from(["counter", "gauge", "histogram", "summary", "untyped", "info", "bogus"])
            )
            lines.append(f"# TYPE {name} {kind}")
        labels = draw(label_sets)
        text = ",".join(f'{k}="{v}"' for k, v in labels.items())
        lines.append(f"{name}{{{text}}} {draw(values)}" if labels else f"{name} {draw(values)}")
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n# EOF\n"]))


@st.composite
def mutated_body(draw: st.DrawFn) -> str:
    # a window of the capture (whole families and their neighbours) keeps each example fast
    start = draw(st.integers(0, len(SEED_LINES) - 1))
    lines = SEED_LINES[start : start + draw(st.integers(1, 80))]
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["cut", "insert", "drop", "swap", "value", "dup"]))
        line = lines[i]
        if how == "cut" and line:
            j = draw(st.integers(0, len(line)))
            lines[i] = line[:j]
        elif how == "insert":
            j = draw(st.integers(0, len(line)))
            lines[i] = line[:j] + draw(SPECIAL) + line[j:]
        elif how == "drop":
            del lines[i]
        elif how == "swap":
            k = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[k] = lines[k], lines[i]
        elif how == "value":
            lines[i] = line.rpartition(" ")[0] + " " + draw(values)
        else:
            lines.insert(i, line)
        if not lines:
            break
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(900)  # 5,000 examples: about a minute on a quiet machine
@SETTINGS
@given(st.one_of(generated_body(), mutated_body(), st.text(max_size=300)))
def test_metric_bodies_raise_only_our_parse_error(body: str) -> None:
    try:
        scrape = parse_metrics(body, taken_at=2.0)
        # the poll loop's incremental parser, after a body one line shorter (most lines
        # known, one new), agrees with parse_metrics
        parser = ScrapeParser()
        with contextlib.suppress(IstiodFormatError):
            parser.parse(body.rstrip("\n").rpartition("\n")[0] + "\n", 1.0)
        again = parser.parse(body, 2.0)
        assert repr(sorted(again.families.items())) == repr(sorted(scrape.families.items()))
        previous = dataclasses.replace(scrape, taken_at=1.0)  # the same body a second earlier
        summary = summarise(scrape, previous, now=1.8e9)
    except IstiodFormatError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    rows = metric_rows(scrape, previous)
    assert summary.interval == 1.0 and all(r.rate in (None, 0.0) or math.isnan(r.rate) for r in rows.values())


KEYS = st.sampled_from(["proxy", "resources", "sent", "acked", "lastError", "node", "genericXdsConfigs"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text('ab~.é\\"', max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(KEYS | st.text("xy_", max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_doc(draw: st.DrawFn) -> str:
    doc = json.loads(json.dumps(draw(st.sampled_from([SYNCZ_DOC, XDS_DOC]))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        if not path:
            doc = draw(json_values)
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = draw(json_values)
    text = json.dumps(doc)
    if draw(st.booleans()):
        j = draw(st.integers(0, len(text)))
        text = text[:j]  # a body cut short
    return text


@pytest.mark.timeout(900)
@SETTINGS
@given(st.one_of(mutated_doc(), json_values.map(json.dumps), st.text(max_size=200)))
def test_syncz_documents_raise_only_our_parse_error(body: str) -> None:
    try:
        rows = parse_syncz(body, "istiod-0")
    except IstiodFormatError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for row in with_rejects(rows, []):
        assert len(row.statuses) == 5 and isinstance(row.pod, str) and isinstance(row.namespace, str)
