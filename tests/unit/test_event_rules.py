"""The timeline's rules: what a pod's, an object's and istiod's changes become, the one-line
spec diff, the bounded ring and the record on disk."""

from __future__ import annotations

import dataclasses
import json

from meshtui import spec_diff
from meshtui.envoy.clusters import ClusterStatus, HostHealth, parse_cluster_name
from meshtui.events.envoys import EnvoyRead, EnvoyTimeline, parse_count, parse_server_info
from meshtui.events.istiod import IstiodTimeline, proxy_changes
from meshtui.events.kube import ObjectEvent, ObjectTimeline, PodTimeline, pod_changes
from meshtui.events.model import EventLog, MeshEvent, iso
from meshtui.events.record import Record, read_back
from meshtui.istiod.live import IstiodUpdate
from meshtui.istiod.summary import Counter, Summary
from meshtui.istiod.syncz import ProxySync, XdsStatus
from meshtui.kube.pods import PodEvent, PodInfo

POD = PodInfo("istioinaction", "webapp-1", "u1", "webapp", "2/2", "Running", 0, 0.0, "10.0.0.1", "1.17.8")


def summaries(events: list[MeshEvent]) -> list[str]:
    return [e.summary for e in events]


def test_a_pods_life():
    pending = dataclasses.replace(POD, ready="0/2", status="Pending")
    assert summaries(pod_changes(None, pending, 1.0)) == ["added (Pending, 0/2 ready)"]
    assert summaries(pod_changes(pending, POD, 2.0)) == ["ready"]
    killed = dataclasses.replace(POD, ready="1/2", status="Error")
    assert summaries(pod_changes(POD, killed, 3.0)) == ["not ready (1/2, Error)"]
    back = dataclasses.replace(POD, restarts=1, last_exit="istio-proxy exit 137 (Error)")
    assert summaries(pod_changes(killed, back, 4.0)) == [
        "restarted: istio-proxy exit 137 (Error) (restarts 1)",
        "ready",
    ]
    going = dataclasses.replace(back, status="Terminating")
    assert summaries(pod_changes(back, going, 5.0)) == ["terminating"]
    (gone,) = pod_changes(going, None, 6.0)
    assert (gone.kind, gone.object, gone.summary) == ("Pod", "istioinaction/webapp-1", "deleted")
    assert gone.detail["pod"] == "webapp-1" and gone.detail["namespace"] == "istioinaction"


def test_the_first_list_is_a_baseline_and_a_relist_is_diffed():
    t = PodTimeline()
    assert t.apply(PodEvent("SYNC", (POD,)), 1.0) == []
    other = dataclasses.replace(POD, name="webapp-2", uid="u2")
    assert summaries(t.apply(PodEvent("ADDED", (other,)), 2.0)) == ["added (Running, 2/2 ready)", "ready"]
    # the watch expired meanwhile: the re-list says what changed while nobody watched
    relisted = t.apply(PodEvent("SYNC", (other,)), 3.0)
    assert [(e.object, e.summary) for e in relisted] == [("istioinaction/webapp-1", "deleted")]
    assert t.apply(PodEvent("ERROR", message="gone"), 4.0) == []


VS = {
    "metadata": {"namespace": "istioinaction", "name": "catalog", "resourceVersion": "1"},
    "spec": {
        "hosts": ["catalog"],
        "http": [{"name": "default", "retries": {"attempts": 4}, "timeout": "7s"}],
    },
}


def test_istio_objects_created_changed_deleted():
    t = ObjectTimeline("VirtualService")
    assert t.apply(ObjectEvent("SYNC", ()), 0.0) == []
    (created,) = t.apply(ObjectEvent("ADDED", (VS,)), 1.0)
    assert created.summary.startswith("created: hosts[0]=catalog, http[default].name=default")
    changed = json.loads(json.dumps(VS))
    changed["spec"]["http"][0]["retries"]["attempts"] = 2
    changed["spec"]["http"][0].pop("timeout")
    changed["metadata"]["resourceVersion"] = "2"
    (c,) = t.apply(ObjectEvent("MODIFIED", (changed,)), 2.0)
    assert c.summary == "changed: http[default].retries.attempts: 4 -> 2, http[default].timeout: 7s -> -"
    assert c.detail["changes"][0] == {"path": "http[default].retries.attempts", "old": 4, "new": 2}
    status_only = {**changed, "status": {"x": 1}}
    assert t.apply(ObjectEvent("MODIFIED", (status_only,)), 3.0) == []
    (d,) = t.apply(ObjectEvent("DELETED", (changed,)), 4.0)
    assert (d.kind, d.object, d.summary) == ("VirtualService", "istioinaction/catalog", "deleted")


def test_deployments_scaled_and_rolled_out():
    t = ObjectTimeline("Deployment")
    dep = {"metadata": {"namespace": "ns", "name": "web"}, "spec": {"replicas": 1, "template": {"spec": {}}}}
    t.apply(ObjectEvent("SYNC", (dep,)), 0.0)
    scaled = {**dep, "spec": {**dep["spec"], "replicas": 3}}
    assert summaries(t.apply(ObjectEvent("MODIFIED", (scaled,)), 1.0)) == ["scaled 1 -> 3"]
    restarted = json.loads(json.dumps(scaled))
    restarted["spec"]["template"]["metadata"] = {"annotations": {"kubectl.kubernetes.io/restartedAt": "T"}}
    (r,) = t.apply(ObjectEvent("MODIFIED", (restarted,)), 2.0)
    assert r.summary == "rollout restart (kubectl.kubernetes.io/restartedAt T)"


def test_spec_diff_numbers_lists_and_blocks():
    assert list(spec_diff.changes({"a": 10}, {"a": 10.0})) == []  # the same number, spelled twice
    found = list(spec_diff.changes({"l": [1, 2]}, {"l": [1, 3, 4], "b": {"c": {"d": 1}}}))
    assert [(p, spec_diff.shown(o), spec_diff.shown(n)) for p, o, n in found] == [
        ("b.c.d", "-", "1"),
        ("l[1]", "2", "3"),
        ("l[2]", "-", "4"),
    ]
    assert spec_diff.summary(found, most=2) == "b.c.d: - -> 1, l[1]: 2 -> 3 (+1 more)"
    assert spec_diff.summary([]) == "no change"
    assert (
        spec_diff.shown("x" * 100).endswith("…") and len(spec_diff.shown("x" * 100)) == spec_diff.VALUE_WIDTH
    )


def row(proxy: str, *statuses: XdsStatus) -> ProxySync:
    pad = statuses + tuple(XdsStatus("NOT SENT") for _ in range(5 - len(statuses)))
    return ProxySync(proxy, "Kubernetes", "istiod-1", "1.17.8", "", pad)


def update(pushes: dict[str, float], triggers: dict[str, float], *proxies: ProxySync) -> IstiodUpdate:
    total = Summary(
        "istiod-1",
        pushes={k: Counter(v) for k, v in pushes.items()},
        push_triggers={k: Counter(v) for k, v in triggers.items()},
    )
    return IstiodUpdate(total=total, proxies=proxies)


def test_istiod_pushes_syncs_nacks_and_recovery():
    s, t = "SYNCED", IstiodTimeline()
    web = row("webapp-1.istioinaction", XdsStatus(s, sent="n1"), XdsStatus(s, sent="n1"))
    (baseline,) = t.apply(update({"cds": 3}, {}, web), 1.0)
    assert baseline.summary.startswith("watching 1 connected proxies")
    pushed = row("webapp-1.istioinaction", XdsStatus(s, sent="n2"), XdsStatus(s, sent="n2"))
    got = t.apply(update({"cds": 4, "lds": 1}, {"config": 1}, pushed), 2.0)
    assert summaries(got) == ["pushed cds x1, lds x1 (triggers: config x1)", "new CDS LDS sent, acked"]
    assert got[1].detail["pod"] == "webapp-1" and got[1].detail["namespace"] == "istioinaction"
    nacked = row(
        "webapp-1.istioinaction", XdsStatus("STALE", "rejected (Internal)", "n3"), XdsStatus(s, sent="n3")
    )
    assert summaries(t.apply(update({"cds": 5, "lds": 2}, {}, nacked), 3.0))[1:] == [
        "CDS NACK: rejected (Internal)",
        "new LDS sent, acked",
    ]
    healed = row("webapp-1.istioinaction", XdsStatus(s, sent="n4"), XdsStatus(s, sent="n3"))
    assert summaries(t.apply(update({"cds": 6, "lds": 2}, {}, healed), 4.0))[1:] == [
        "CDS accepted again (the NACK is over)"
    ]
    new = row("webapp-2.istioinaction", XdsStatus(s, sent="a"), XdsStatus(s, sent="a"))
    got = t.apply(update({"cds": 6, "lds": 2}, {}, new), 5.0)
    assert summaries(got) == ["disconnected from istiod", "connected (1.17.8); synced CDS LDS"]
    whole = row("webapp-2.istioinaction", *(XdsStatus(s, sent="b") for _ in range(4)))
    assert summaries(t.apply(update({"cds": 6, "lds": 2}, {}, whole), 5.5)) == [
        "new CDS LDS EDS RDS sent, acked",
        "first full sync (CDS LDS EDS RDS acked)",
    ]
    assert "first full sync" not in " ".join(summaries(t.apply(update({"cds": 6, "lds": 2}, {}, whole), 5.7)))
    assert t.apply(IstiodUpdate(error="istiod unreachable"), 6.0) == []
    assert proxy_changes(None, None, 7.0) == []


def test_the_ring_keeps_the_last_and_numbers_them():
    log = EventLog(size=3)
    for i in range(5):
        log.add(MeshEvent(float(i), "Pod", f"p{i}", "added"))
    assert [e.seq for e in log] == [3, 4, 5] and len(log) == 3
    assert [e.object for e in log.since(3)] == ["p3", "p4"]
    assert [e.seq for e in log.since(0)] == [3, 4, 5] and log.since(5) == []


def test_the_record_appends_json_lines_and_reads_back(tmp_path):
    record = Record(tmp_path / "rec")
    e = MeshEvent(1_764_800_000.25, "Pod", "ns/p", "added", {"pod": "p"})
    record.append(e)
    record.close()
    (path,) = (tmp_path / "rec").iterdir()
    assert path.name == "events-2025-12-03.jsonl"
    with path.open("a") as f:
        f.write('{"torn')  # a kill mid-write
    assert list(read_back(tmp_path / "rec")) == [
        {
            "time": "2025-12-03T22:13:20.250Z",
            "kind": "Pod",
            "object": "ns/p",
            "summary": "added",
            "detail": {"pod": "p"},
        }
    ]
    assert iso(0.0) == "1970-01-01T00:00:00.000Z"


def cluster(rq: int, err: int, ejected: bool = False, hc: bool = False) -> ClusterStatus:
    host = HostHealth("10.0.0.5:3000", "HEALTHY", hc, ejected, 1, "-", (("rq_total", rq), ("rq_error", err)))
    return ClusterStatus("outbound|80||catalog", parse_cluster_name("outbound|80||catalog"), (host,))


def test_an_envoys_restarts_bursts_ejections_and_health_checks():
    t = EnvoyTimeline("istioinaction/webapp-1")
    assert t.apply(EnvoyRead(100, 0, (cluster(100, 0),)), 1.0) == []  # the baseline
    assert t.apply(EnvoyRead(105, 0, (cluster(150, 2),)), 2.0) == []  # 4%: no burst
    (burst,) = t.apply(EnvoyRead(110, 0, (cluster(200, 22),)), 3.0)
    assert (
        burst.kind == "Envoy"
        and burst.summary == "outbound|80||catalog: error burst, 40% (20 of 50 requests)"
    )
    assert burst.detail["pod"] == "webapp-1" and burst.detail["cluster"] == "outbound|80||catalog"
    assert t.apply(EnvoyRead(115, 0, (cluster(250, 42),)), 8.0) == []  # still bursting: said once
    (over,) = t.apply(EnvoyRead(120, 0, (cluster(300, 43),)), 13.0)
    assert over.summary == "outbound|80||catalog: error burst over after 10 s (2% now)"
    (ejected,) = t.apply(EnvoyRead(125, 0, (cluster(300, 43, ejected=True),)), 14.0)
    assert ejected.summary == "outbound|80||catalog: endpoint 10.0.0.5:3000 ejected by outlier detection"
    back, failing = t.apply(EnvoyRead(130, 0, (cluster(300, 43, hc=True),)), 15.0)
    assert (
        "back from outlier ejection" in back.summary and "failing its active health check" in failing.summary
    )
    (restart,) = t.apply(EnvoyRead(2, 0, (cluster(1, 0),)), 16.0)
    assert restart.summary == "restarted (uptime 130 s -> 2 s)"  # and no burst across it
    (hot,) = t.apply(EnvoyRead(5, 1, (cluster(3, 0),)), 17.0)
    assert hot.summary == "hot restart (epoch 0 -> 1)"
    info = '{"uptime_current_epoch": "42s", "command_line_options": {"restart_epoch": 3}, "state": "LIVE"}'
    assert parse_server_info(info) == (42, 3)
    assert parse_count("cluster_manager.active_clusters: 2004\n") == 2004 and parse_count("") == 0
