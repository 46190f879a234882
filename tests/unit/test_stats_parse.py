"""The /stats parsers on real captures."""

from __future__ import annotations

import json

import pytest

from meshtui.envoy.stats import (
    StatsFormatError,
    parse_body,
    parse_json,
    parse_quantiles,
    text_records,
)


def stat_lines(path):
    return [line for line in path.read_text().splitlines() if line.strip()]


def test_catalog_capture_one_entry_per_line(fixtures):
    path = fixtures / "seed" / "catalog-sidecar-stats.txt"
    lines = stat_lines(path)
    stats = parse_body(path.read_text())
    assert len(stats) == len(lines)
    assert [s.name for s in stats] == [line.partition(": ")[0] for line in lines]
    by_name = {s.name: s for s in stats}
    assert by_name["cluster_manager.cds.version_text"].kind == "text"
    assert by_name["cluster_manager.cds.version_text"].value == "2025-05-03T08:56:10Z/10"
    assert by_name["cluster.xds-grpc.http2.streams_active"].value == 1


def test_catalog_capture_histograms_carry_every_quantile(fixtures):
    path = fixtures / "seed" / "catalog-sidecar-stats.txt"
    hist_lines = [line for line in stat_lines(path) if ": P0(" in line]
    stats = {s.name: s for s in parse_body(path.read_text())}
    assert len(hist_lines) == 7
    for line in hist_lines:
        name = line.partition(": ")[0]
        s = stats[name]
        assert s.kind == "histogram"
        assert list(s.quantiles) == [
            "P0",
            "P25",
            "P50",
            "P75",
            "P90",
            "P95",
            "P99",
            "P99.5",
            "P99.9",
            "P100",
        ]
        assert all(q.interval is None for q in s.quantiles.values())  # "nan" interval
    connect = stats["cluster.xds-grpc.upstream_cx_connect_ms"].quantiles
    assert connect["P50"].cumulative == 4.05 and connect["P100"].cumulative == 4.1
    empty = stats["cluster.xds-grpc.upstream_cx_length_ms"]
    assert empty.kind == "histogram" and empty.quantiles == {}


def test_istio_names_kept_exactly(fixtures):
    path = fixtures / "seed" / "webapp-stats-grep-catalog-after-inclusion.txt"
    names = [s.name for s in parse_body(path.read_text())]
    assert "cluster.outbound|80||catalog.istioinaction.svc.cluster.local.upstream_rq_2xx" in names
    assert any("spiffe://cluster.local/ns/istioinaction/sa/webapp" in n for n in names)
    assert len(names) == len(stat_lines(path))


def test_older_envoy_front_proxy_capture(fixtures):
    path = fixtures / "upstream" / "integrations-core" / "multiple_services"
    stats = parse_body(path.read_text())
    assert len(stats) == len(stat_lines(path))
    assert all(s.kind in ("unknown", "text", "histogram") for s in stats)


def test_text_records_match_typed_parse(fixtures):
    body = (fixtures / "seed" / "catalog-sidecar-stats.txt").read_text()
    assert text_records(body) == [s.to_json() for s in parse_body(body)]


@pytest.mark.parametrize(
    "body",
    [
        "root:x:0:0:root:/root:/bin/bash\n",
        "cluster.a: P50(nan\n",
        "ok: 1\nno separator here\n",
        "a: 12abc\n",
    ],
)
def test_malformed_bodies_raise(body):
    with pytest.raises(StatsFormatError):
        parse_body(body)


def test_json_body():
    body = json.dumps(
        {
            "stats": [
                {"name": "server.live", "value": 1},
                {"name": "cluster_manager.cds.version_text", "value": "v1"},
                {
                    "histograms": {
                        "supported_quantiles": [50, 99.5],
                        "computed_quantiles": [
                            {
                                "name": "h",
                                "values": [
                                    {"interval": None, "cumulative": 2},
                                    {"interval": 1.5, "cumulative": 3},
                                ],
                            }
                        ],
                    }
                },
            ]
        }
    )
    stats = {s.name: s for s in parse_json(body)}
    assert stats["server.live"].kind == "unknown" and stats["server.live"].value == 1
    assert stats["cluster_manager.cds.version_text"].kind == "text"
    assert stats["h"].quantiles["P99.5"].interval == 1.5
    assert stats["h"].quantiles["P50"].cumulative == 2


def test_json_not_envoy():
    with pytest.raises(StatsFormatError):
        parse_body('{"items": []}')


def test_quantiles_with_values():
    q = parse_quantiles("P50(1,2) P99(nan,3.5)")
    assert q["P50"].interval == 1.0 and q["P99"].interval is None and q["P99"].cumulative == 3.5
