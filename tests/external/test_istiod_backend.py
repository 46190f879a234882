"""istiod's /metrics and /debug/syncz: parsing, percentiles, summaries, sync status, config diff."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import pytest

from helpers.istiod_fake import CONFIG_DUMP, SEED_METRICS, SYNCZ
from meshtui.istiod.browser import metric_rows
from meshtui.istiod.config_diff import diff_config
from meshtui.istiod.metrics import IstiodFormatError, ScrapeParser, parse_metrics
from meshtui.istiod.quantile import bucket_quantile
from meshtui.istiod.summary import Reject, summarise, summarise_replicas
from meshtui.istiod.syncz import ERROR, NOT_SENT, STALE, SYNCED, parse_syncz, with_rejects

NOW = datetime(2026, 11, 27, tzinfo=timezone.utc).timestamp()
DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def seed() -> str:
    return SEED_METRICS.read_text()


def test_seed_summary_figures(seed):
    s = summarise(parse_metrics(seed), now=NOW, replica="istiod")
    assert dict(s.connected) == {"1.17.8": 3.0} and s.version == "1.17.8"
    assert s.services == 13 and s.virtual_services == 1
    assert s.pushes["eds"].value == 110 and s.pushes["cds"].rate is None
    assert s.push_triggers["endpoint"].value == 210
    assert s.csrs is not None and s.csrs.value == 4 and s.certs_issued is not None
    assert s.validation_failed is not None and s.validation_failed.value == 1
    assert dict(s.validation_failed_by) == {"invalid_resource": 1.0}
    assert s.root_cert is not None and s.root_cert.expiry == 2061605423
    assert s.root_cert.iso == "2035-05-01T04:10:23Z" and not s.root_cert.warning
    assert s.convergence is not None and s.convergence.count == 95


def test_counters_keep_the_name_istiod_exposed(seed):
    scrape = parse_metrics(seed)
    # OpenCensus counters have no _total; prometheus_client would call them pilot_xds_pushes_total
    assert scrape.families["pilot_xds_pushes"].samples[0].name == "pilot_xds_pushes"
    assert scrape.families["sidecar_injection_requests_total"].kind == "counter"
    rows = metric_rows(scrape)
    assert 'pilot_xds_pushes{type="eds"}' in rows and "sidecar_injection_requests_total" in rows
    assert rows["pilot_proxy_convergence_time"].quantiles is not None


def test_root_cert_warning_under_30_days(seed):
    expiry = 2061605423
    s = summarise(parse_metrics(seed), now=expiry - 10 * 86400)
    assert s.root_cert is not None and s.root_cert.warning and round(s.root_cert.days_left) == 10


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        (0.5, [(1, 0), (2, 10), (math.inf, 10)], 1.5),  # linear inside (1, 2]
        (0.5, [(1, 10), (math.inf, 10)], 0.5),  # natural lower bound 0
        (0.99, [(1, 1), (2, 1), (math.inf, 100)], 2.0),  # rank in +Inf: second-highest bound
        (0.5, [(1, 0), (math.inf, 0)], math.nan),  # empty histogram
        (0.5, [(1, 5), (2, 10)], math.nan),  # no +Inf bucket
        (0.5, [(math.inf, 10)], math.nan),  # fewer than two buckets
        (0.1, [(-1, 5), (1, 10), (math.inf, 10)], -1.0),  # lowest bound <= 0 is returned as is
        (0.75, [(1, 10), (2, 5), (4, 20), (math.inf, 20)], 3.0),  # decrease ignored (monotonic fix)
        (0.5, [(1, 4), (1, 4), (2, 8), (math.inf, 8)], 0.5),  # equal bounds coalesced: (1, 8]
        (-0.1, [(1, 1), (math.inf, 1)], -math.inf),
        (1.1, [(1, 1), (math.inf, 1)], math.inf),
    ],
)
def test_bucket_quantile_follows_promql(q, buckets, expected):
    got = bucket_quantile(q, buckets)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)


def test_interval_is_the_difference_of_two_scrapes(seed):
    before = parse_metrics(seed, taken_at=100.0)
    later = seed.replace('pilot_xds_pushes{type="eds"} 110', 'pilot_xds_pushes{type="eds"} 130')
    # 10 new convergences, all between 0.5 s and 1 s
    for le, count in (
        ("1", 105),
        ("3", 105),
        ("5", 105),
        ("10", 105),
        ("20", 105),
        ("30", 105),
        ("+Inf", 105),
    ):
        later = later.replace(
            f'pilot_proxy_convergence_time_bucket{{le="{le}"}} 95',
            f'pilot_proxy_convergence_time_bucket{{le="{le}"}} {count}',
        )
    s = summarise(parse_metrics(later, taken_at=102.0), before, now=NOW)
    assert s.pushes["eds"].rate == pytest.approx(10.0) and s.pushes["cds"].rate == 0
    assert s.convergence is not None and s.convergence.interval is not None
    assert s.convergence.interval_count == 10
    assert s.convergence.interval[0] == pytest.approx(0.75)  # half-way through (0.5, 1]
    assert s.convergence.lifetime[0] == pytest.approx(0.1 * 52.5 / 95)


def test_a_counter_reset_is_not_a_negative_rate(seed):
    before = parse_metrics(seed, taken_at=1.0)
    restarted = parse_metrics(
        seed.replace('pilot_xds_pushes{type="eds"} 110', 'pilot_xds_pushes{type="eds"} 4'), 2.0
    )
    assert summarise(restarted, before, now=NOW).pushes["eds"].rate == 4.0


def test_replicas_are_summed_but_shared_figures_are_not(seed):
    a, b = (
        parse_metrics(seed),
        parse_metrics(seed.replace('pilot_xds{version="1.17.8"} 3', 'pilot_xds{version="1.17.8"} 2')),
    )
    replicas, total = summarise_replicas([a, b], [None, None], now=NOW, names=["istiod-a", "istiod-b"])
    assert [r.connected_total for r in replicas] == [3, 2] and total.connected_total == 5
    assert total.pushes["eds"].value == 220 and total.services == 13 and total.virtual_services == 1
    assert total.convergence is not None and total.convergence.count == 190
    assert total.root_cert is not None and total.root_cert.expiry == 2061605423


@pytest.mark.parametrize(
    "body",
    ['{"a": 1}', "<html>nope</html>", 'pilot_xds{version="1.17.8" 3\n', "\x00\x01binary", "a b c d e\n"],
)
def test_garbage_is_one_parse_error(body):
    with pytest.raises(IstiodFormatError):
        parse_metrics(body)


def test_prometheus_text_that_is_not_istiod():
    with pytest.raises(IstiodFormatError, match="not istiod"):
        summarise(parse_metrics("# TYPE up gauge\nup 1\n"), now=NOW)


def test_syncz_117_shape_from_kiali():
    rows = parse_syncz(SYNCZ.read_text())
    assert len(rows) == 34
    assert all(r.statuses[4].status == NOT_SENT for r in rows)  # no ECDS before 1.15
    first = next(r for r in rows if r.proxy == "b-client-8b97458bb-tghx9.beta")
    assert first.pod == "b-client-8b97458bb-tghx9" and first.namespace == "beta"
    assert [s.status for s in first.statuses[:4]] == [SYNCED] * 4


def test_syncz_newer_shape_with_resources_and_nack():
    # the SyncStatus/ResourceStatus JSON of pilot/pkg/xds/debug.go
    doc = [
        {
            "cluster_id": "Kubernetes",
            "proxy": "webapp-7685bcb84-hp2kf.istioinaction",
            "proxy_type": "sidecar",
            "istio_version": "1.24.0",
            "cluster_sent": "n1",
            "cluster_acked": "n1",
            "resources": {
                "type.googleapis.com/envoy.config.listener.v3.Listener": {
                    "sent": "n2",
                    "acked": "n1",
                    "sentTime": "2026-11-27T18:00:00Z",
                    "lastError": "Error adding/updating listener(s) 0.0.0.0_8080: duplicate listener",
                },
                "type.googleapis.com/envoy.config.cluster.v3.Cluster": {"sent": "n1", "acked": "n1"},
            },
        },
        {"proxy": "catalog-1.istioinaction", "cluster_sent": "x", "cluster_acked": "x"},
    ]
    rows = parse_syncz(json.dumps(doc), "istiod-1")
    assert rows[0].proxy.startswith("webapp") and rows[0].stale  # STALE first
    assert rows[0].statuses[1].status == STALE and "duplicate listener" in rows[0].statuses[1].nack
    assert rows[0].proxy_type == "sidecar" and rows[0].istiod == "istiod-1"
    assert rows[1].statuses[0].status == SYNCED and rows[1].statuses[1].status == NOT_SENT


def test_syncz_xds_answer_istioctl_receives():
    # istio/istio istioctl/pkg/writer/pilot/testdata/multiXdsStatusSinglePilot.json (Apache-2.0)
    body = (DATA / "istioctl-multiXdsStatusSinglePilot.json").read_text()
    (row,) = parse_syncz(body)
    assert row.proxy == "proxy1" and row.istiod == "istiod1" and row.version == "1.20"
    assert [s.status for s in row.statuses] == [STALE, SYNCED, SYNCED, NOT_SENT, SYNCED]
    doc = json.loads(body)
    doc["resources"][0]["genericXdsConfigs"][0] = {
        "typeUrl": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
        "configStatus": "ERROR",
        "errorState": {"details": "cluster foo: bad lb policy"},
    }
    (row,) = parse_syncz(json.dumps(doc))
    assert row.statuses[0] == (ERROR, "cluster foo: bad lb policy") or (
        row.statuses[0].status == ERROR and row.statuses[0].nack == "cluster foo: bad lb policy"
    )


def test_reject_gauges_name_the_nack_beside_the_proxy():
    doc = json.loads(SYNCZ.read_text())
    doc[3]["listener_acked"] = "an older nonce"  # STALE on LDS
    rows = parse_syncz(json.dumps(doc))
    stale, synced = doc[3]["proxy"], doc[4]["proxy"]
    envoy_id = f"sidecar~10.1.1.1~{synced}~alpha.svc.cluster.local"  # the gauge may carry Envoy's node id
    marked = with_rejects(rows, [Reject("lds", stale, "Internal", 2), Reject("lds", envoy_id, "Internal", 1)])
    assert marked[0].proxy == stale and marked[0].nacks == (("LDS", "rejected (Internal)"),)
    # the gauge never goes down: beside a type acked since, no NACK is shown
    assert next(r for r in marked if r.proxy == synced).nacks == ()


@pytest.mark.parametrize("body", ["", "{}", "[1, 2]", '{"resources": [3]}', "not json", "[" * 5000])
def test_syncz_garbage_is_one_parse_error(body):
    with pytest.raises(IstiodFormatError):
        parse_syncz(body)


def test_config_diff_per_type():
    dump = CONFIG_DUMP.read_text()
    same = diff_config(dump, dump)
    assert [d.kind for d in same] == ["Clusters", "Listeners", "Routes"] and all(d.matches for d in same)
    doc = json.loads(dump)
    for section in doc["configs"]:
        if section["@type"].endswith("ClustersConfigDump"):
            section["dynamic_active_clusters"][0]["cluster"]["connect_timeout"] = "99s"
            section["dynamic_active_clusters"][0]["version_info"] = "other"  # stripped, as istioctl does
    diffs = {d.kind: d for d in diff_config(dump, json.dumps(doc))}
    assert diffs["Listeners"].matches and diffs["Routes"].matches and not diffs["Clusters"].matches
    assert diffs["Clusters"].lines[0] == "--- Istiod Clusters"
    assert any(line.startswith("+") and "99s" in line for line in diffs["Clusters"].lines)
    assert not any("version_info" in line for line in diffs["Clusters"].lines)


# Real Prometheus's answers on the seed capture, kept as expected values. Produced with
# Debian's prometheus 2.42.0+ds scraping ../shared/fixtures/seed/istiod-metrics.txt
# (tests/prometheus_oracle.py starts it; tests/external/test_istiod_prometheus.py asks it live), by
#   curl -s http://127.0.0.1:PORT/api/v1/query \
#        --data-urlencode 'query=histogram_quantile(Q, sum by (le) (SERIES))'
# for Q in 0.5 0.9 0.99 and each SERIES below; "value"[1] of the one result.
PROMETHEUS_ANSWERS = {
    "convergence": ("pilot_proxy_convergence_time_bucket", (0.05, 0.09000000000000001, 0.099)),
    "queue_time": ("pilot_proxy_queue_time_bucket", (0.05, 0.09000000000000001, 0.099)),
    "push_time": ("pilot_xds_push_time_bucket", (0.005, 0.009000000000000001, 0.0099)),
    "config_size": (
        "pilot_xds_config_size_bytes_bucket",
        (7788.239631336405, 732117.6470588235, 973211.7647058823),
    ),
}


@pytest.mark.parametrize("figure", sorted(PROMETHEUS_ANSWERS))
def test_seed_percentiles_equal_recorded_prometheus_answers(seed, figure):
    s = summarise(parse_metrics(seed), now=NOW)
    assert getattr(s, figure).lifetime == PROMETHEUS_ANSWERS[figure][1]


def _same(a, b) -> bool:
    return repr(sorted(a.families.items())) == repr(sorted(b.families.items()))


def test_scrape_parser_reuses_unchanged_lines_and_agrees_with_parse_metrics(seed):
    parser = ScrapeParser()
    first = parser.parse(seed, 1.0)
    assert _same(first, parse_metrics(seed))
    moved = seed.replace('pilot_xds_pushes{type="eds"} 110', 'pilot_xds_pushes{type="eds"} 111')
    second = parser.parse(moved, 2.0)
    assert _same(second, parse_metrics(moved)) and second.value("pilot_xds_pushes", type="eds") == 111
    # untouched families come back as the same objects: the browser rows are not redone
    assert second.families["pilot_services"] is first.families["pilot_services"]
    assert second.families["pilot_xds_pushes"] is not first.families["pilot_xds_pushes"]
    cache: dict = {}
    rows = metric_rows(second, first, cache)
    assert rows == metric_rows(second, first) and rows['pilot_xds_pushes{type="eds"}'].rate == 1.0
    with pytest.raises(IstiodFormatError):
        parser.parse(moved + 'pilot_services{x="1" 3\n', 3.0)


def test_a_gauge_and_a_counter_that_differ_by_total(seed):
    scrape = parse_metrics(seed)
    assert scrape.families["go_memstats_alloc_bytes"].kind == "gauge"
    assert scrape.families["go_memstats_alloc_bytes_total"].kind == "counter"


async def test_feed_reads_every_replica_and_sums_them():
    from helpers.istiod_fake import fake_istiod
    from meshtui.istiod.live import IstiodFeed
    from meshtui.istiod.source import DirectIstiod

    with fake_istiod() as a, fake_istiod() as b:
        b.metrics = b.metrics.replace('pilot_xds{version="1.17.8"} 3', 'pilot_xds{version="1.17.8"} 2')
        b.syncz = "[]"
        feed = IstiodFeed(DirectIstiod({"istiod-a": a.url, "istiod-b": b.url}), interval=0.2)
        first = await feed.poll(0.0)
        a.bump("pilot_xds_pushes", 10)
        second = await feed.poll(0.0)
        for client in feed._clients.values():
            await client.aclose()
    assert first.error == "" and [r.name for r in first.replicas] == ["istiod-a", "istiod-b"]
    assert first.total is not None and first.total.connected_total == 5
    assert [r.summary.connected_total for r in first.replicas if r.summary] == [3, 2]
    assert len(first.proxies) == 34 and {p.istiod for p in first.proxies} == {"istiod-a"}
    assert second.total is not None and second.total.pushes_rate and second.total.pushes_rate > 0
    assert second.trends.pushes_per_s and second.trends.pushes_per_s[-1] > 0
    assert feed.urls == {"istiod-a": a.url, "istiod-b": b.url}


def _dump(clusters: list, listeners: list) -> str:
    return json.dumps(
        {
            "configs": [
                {
                    "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
                    "dynamic_active_clusters": clusters,
                },
                {
                    "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
                    "dynamic_listeners": listeners,
                },
                {"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump", "dynamic_route_configs": []},
            ]
        }
    )


def test_config_diff_number_spelling_is_not_a_difference():
    # istiod's protobuf JSON writes an integral double as 10, the dump we compare against as 10.0
    def listener(value: object) -> dict:
        return {
            "active_state": {"listener": {"name": "virtualInbound", "per_connection_buffer_limit": value}}
        }

    def cluster(timeout: str, weight: object) -> dict:
        return {"cluster": {"name": "outbound|80||a", "connect_timeout": timeout, "lb": {"value": weight}}}

    sent = _dump([cluster("-1s", 10.0)], [listener(10.0)])
    held = _dump([cluster("1s", 10)], [listener(10)])
    diffs = {d.kind: d for d in diff_config(sent, held)}
    assert diffs["Listeners"].matches and diffs["Routes"].matches
    changed = [
        line[0] + line[1:].strip()
        for line in diffs["Clusters"].lines
        if line[:1] in "+-" and line[:3] not in ("---", "+++")
    ]
    assert changed == ['-"connect_timeout": "-1s",', '+"connect_timeout": "1s",']
    # a real fraction is still a difference
    assert not diff_config(_dump([], [listener(10.5)]), _dump([], [listener(10)]))[1].matches
