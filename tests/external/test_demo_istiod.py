"""The demo's istiod over real xDS and its Kubernetes objects, driven by real kubectl and real Envoy.

A mesh of its own (this module restarts and scales pods, which the session mesh's other
users must not see).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from kubernetes import client, config, watch

from helpers.kubectl import KUBECTL, kubectl
from helpers.mesh import alive, descendants, envoys
from helpers.pod_http import pod_get
from helpers.wait import wait_for
from meshtui.demo.run import MeshProcess, start_mesh

NS = "istioinaction"
CATALOG = "outbound|80||catalog.istioinaction.svc.cluster.local"
pytestmark = pytest.mark.skipif(
    not os.path.exists(KUBECTL), reason="kubectl is not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def demo() -> MeshProcess:
    m = start_mesh(rate=10.0)
    try:
        yield m
    finally:
        with contextlib.suppress(OSError):
            m.stop()


def istiod(demo: MeshProcess, path: str) -> httpx.Response:
    r = httpx.get(demo.info["istiod"] + path, timeout=5)
    r.raise_for_status()
    return r


def metric(demo: MeshProcess, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in istiod(demo, "/metrics").text.splitlines():
        m = re.match(r"^([a-z_]+)(\{[^}]*\})? (\S+)$", line)
        if m and m.group(1) == name:
            have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            if all(have.get(k) == v for k, v in labels.items()):
                total += float(m.group(3))
    return total


def synced(demo: MeshProcess) -> list[dict]:
    rows = istiod(demo, "/debug/syncz").json()
    return [
        r
        for r in rows
        if all(
            r.get(f"{t}_sent") == r.get(f"{t}_acked") for t in ("cluster", "listener", "route", "endpoint")
        )
    ]


def stat(admin: str, name: str) -> int:
    for line in httpx.get(admin + "/stats", params={"filter": "^" + re.escape(name) + "$"}).text.splitlines():
        if line.startswith(name + ": "):
            return int(line.split(": ", 1)[1])
    return 0


def route_version(admin: str, route: str) -> str:
    dump = httpx.get(admin + "/config_dump", params={"resource": "dynamic_route_configs"}).json()
    return next(c["version_info"] for c in dump["configs"] if c["route_config"]["name"] == route)


def test_every_proxy_takes_its_config_from_istiod(demo, fixtures):
    rows = wait_for(lambda: len(synced(demo)) == 3 and synced(demo), 20, "3 proxies acked")
    assert {r["proxy"].split("-")[0] for r in rows} == {"webapp", "catalog", "istio"}
    # EDS too, for every proxy (catalog calls no one, but holds the mesh's outbound clusters,
    # as with no Sidecar resource): in `istioctl proxy-status` each EDS reads SYNCED
    assert all(r.get("endpoint_sent") and r["endpoint_sent"] == r.get("endpoint_acked") for r in rows), rows
    assert all(r["istio_version"] == "1.17.8" and r["cluster_id"] == "Kubernetes" for r in rows)
    for key, admin in demo.info["admin"].items():
        pod = demo.info["pods"][key]
        sent = istiod(demo, f"/debug/config_dump?proxyID={pod['name']}.{pod['namespace']}").json()["configs"]
        dump = httpx.get(admin + "/config_dump").json()["configs"]
        by = {c["@type"].rsplit(".", 1)[1]: c for c in dump}
        boot = by["BootstrapConfigDump"]["bootstrap"]
        assert boot["node"]["id"].startswith(("sidecar~", "router~"))
        assert boot["node"]["id"].endswith(
            f"~{pod['name']}.{pod['namespace']}~{pod['namespace']}.svc.cluster.local"
        )
        assert {"ISTIO_VERSION", "CLUSTER_ID", "NAMESPACE", "LABELS"} <= set(boot["node"]["metadata"])
        assert not boot["static_resources"].get("listeners")
        clusters = by["ClustersConfigDump"]
        assert all(
            c["cluster"]["name"] in ("xds-grpc", "sds-grpc", "zipkin") for c in clusters["static_clusters"]
        )
        sent_clusters = next(c for c in sent if c["@type"].endswith("ClustersConfigDump"))
        active = {c["cluster"]["name"]: c["version_info"] for c in clusters["dynamic_active_clusters"]}
        assert active == {
            c["cluster"]["name"]: c["version_info"] for c in sent_clusters["dynamic_active_clusters"]
        }
        listeners = {
            listener["name"]: listener["active_state"]["version_info"]
            for listener in by["ListenersConfigDump"]["dynamic_listeners"]
        }
        sent_listeners = next(c for c in sent if c["@type"].endswith("ListenersConfigDump"))[
            "dynamic_listeners"
        ]
        assert listeners == {x["name"]: x["active_state"]["version_info"] for x in sent_listeners}
        assert by["RoutesConfigDump"]["dynamic_route_configs"]
        mesh_wide = {f"outbound|80||{svc}.istioinaction.svc.cluster.local" for svc in ("webapp", "catalog")}
        assert mesh_wide <= set(active), (key, sorted(active))
        assert {c["name"] for c in boot["static_resources"]["clusters"]} == {"xds-grpc", "sds-grpc", "zipkin"}
        secrets = {s["name"] for s in by["SecretsConfigDump"]["dynamic_active_secrets"]}
        assert secrets == {"default", "ROOTCA"}  # by SDS, as istio-agent hands them over
        assert stat(admin, "cluster.xds-grpc.upstream_cx_active") == 1
        assert stat(admin, "cluster.xds-grpc.upstream_rq_total") >= 1
    # webapp -> catalog is mutual TLS with the SDS certificates
    webapp = demo.info["admin"]["webapp"]
    wait_for(
        lambda: stat(webapp, f"cluster.{CATALOG}.ssl.handshake") >= 1, 10, "an mTLS handshake to catalog"
    )
    assert metric(demo, "pilot_xds", version="1.17.8") == 3
    assert istiod(demo, "/version").text.startswith("1.17.8-")
    assert istiod(demo, "/ready").status_code == 200


def test_metrics_have_istiods_names_types_and_buckets(demo, fixtures):
    def types(text: str) -> dict[str, str]:
        return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.M))

    ours, theirs = (
        types(istiod(demo, "/metrics").text),
        types((fixtures / "seed/istiod-metrics.txt").read_text()),
    )
    shared = set(ours) & set(theirs)
    assert {
        "pilot_xds",
        "pilot_xds_pushes",
        "pilot_proxy_convergence_time",
        "pilot_xds_config_size_bytes",
    } <= shared
    assert {n: ours[n] for n in shared} == {n: theirs[n] for n in shared}
    text = istiod(demo, "/metrics").text
    for le in ("0.1", "0.5", "30.0", "+Inf"):
        assert f'pilot_proxy_convergence_time_bucket{{le="{le}"}}' in text
    assert (
        'pilot_xds_config_size_bytes_bucket{le="4e+06",type="type.googleapis.com/envoy.config.cluster.v3.Cluster"}'
        in text
    )
    assert metric(demo, "citadel_server_root_cert_expiry_timestamp") > 1.7e9
    assert metric(demo, "citadel_server_csr_count") >= 3


VS_FAULT = """apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: catalog, namespace: istioinaction}
spec:
  hosts: [catalog]
  http:
  - route: [{destination: {host: catalog}}]
    fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
"""


def test_virtual_service_applied_with_kubectl_reaches_every_envoy(demo):
    webapp = demo.info["admin"]["webapp"]
    aborted = "http.outbound_0.0.0.0_80.fault.aborts_injected"
    wait_for(lambda: stat(webapp, f"cluster.{CATALOG}.upstream_rq_total") > 5, 20, "load on catalog")
    pushes, converged = (
        metric(demo, "pilot_xds_pushes", type="rds"),
        metric(demo, "pilot_proxy_convergence_time_count"),
    )
    r = kubectl(demo, "apply", "-f", "-", stdin=VS_FAULT)
    assert r.returncode == 0, r.stderr
    assert "virtualservice.networking.istio.io/catalog created" in r.stdout
    listed = kubectl(demo, "get", "vs", "-A")
    assert re.search(r"^istioinaction\s+catalog\s", listed.stdout, flags=re.M), listed.stdout
    assert metric(demo, "pilot_xds_pushes", type="rds") >= pushes + 3
    assert metric(demo, "pilot_proxy_convergence_time_count") >= converged + 3
    assert metric(demo, "pilot_virt_services") == 1
    wait_for(lambda: len(synced(demo)) == 3, 10, "every proxy acks the new version")
    pod = demo.info["pods"]["webapp"]
    sent = istiod(demo, f"/debug/config_dump?proxyID={pod['name']}.{NS}").json()["configs"]
    version = next(c for c in sent if c["@type"].endswith("RoutesConfigDump"))["dynamic_route_configs"][0][
        "version_info"
    ]
    wait_for(lambda: route_version(webapp, "80") == version, 10, "webapp runs istiod's route version")
    # the catalog calls now end in the injected fault, no longer at catalog
    before_abort, before_rq = stat(webapp, aborted), stat(webapp, f"cluster.{CATALOG}.upstream_rq_total")
    wait_for(lambda: stat(webapp, aborted) >= before_abort + 5, 20, "aborts injected")
    assert stat(webapp, f"cluster.{CATALOG}.upstream_rq_total") <= before_rq + 1
    assert stat(webapp, "http.outbound_0.0.0.0_80.downstream_rq_4xx") >= 5
    r = kubectl(demo, "delete", "vs", "catalog", "-n", NS)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: len(synced(demo)) == 3, 10, "acked after delete")
    resumed = stat(webapp, f"cluster.{CATALOG}.upstream_rq_total")
    wait_for(
        lambda: stat(webapp, f"cluster.{CATALOG}.upstream_rq_total") > resumed + 3,
        20,
        "catalog reached again",
    )


def test_kubectl_watch_and_edit_virtual_services(demo):
    watcher = subprocess.Popen(
        [KUBECTL, "--kubeconfig", demo.kubeconfig, "get", "vs", "-A", "-w"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        applied = kubectl(demo, "apply", "-f", "-", stdin=VS_FAULT.replace("value: 100", "value: 50"))
        assert applied.returncode == 0, applied.stderr
        editor = {"KUBE_EDITOR": "sed -i s/value:\\ 50/value:\\ 20/"}
        edited = subprocess.run(
            [KUBECTL, "--kubeconfig", demo.kubeconfig, "edit", "vs", "catalog", "-n", NS],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **editor},
        )
        assert "virtualservice.networking.istio.io/catalog edited" in edited.stdout, edited.stderr
        path = "jsonpath={.spec.http[0].fault.abort.percentage.value}"
        assert kubectl(demo, "get", "vs", "catalog", "-n", NS, "-o", path).stdout == "20"
        assert kubectl(demo, "delete", "vs", "catalog", "-n", NS).returncode == 0
        wait_for(lambda: len(synced(demo)) == 3, 10, "acked")
    finally:
        watcher.terminate()
        out = watcher.communicate(timeout=10)[0]
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["NAMESPACE", "NAME", "GATEWAYS", "HOSTS", "AGE"]
    assert len([r for r in rows[1:] if r[:2] == ["istioinaction", "catalog"]]) >= 3  # added, edited, deleted


def test_invalid_virtual_service_is_refused_and_nothing_changes(demo):
    admins = demo.info["admin"]
    versions = {
        k: route_version(a, "80" if k == "webapp" else "http.8080")
        for k, a in admins.items()
        if k != "catalog"
    }
    failed, pushes = metric(demo, "galley_validation_failed"), metric(demo, "pilot_xds_pushes")
    bad = VS_FAULT.replace(
        "route: [{destination: {host: catalog}}]",
        "route: [{destination: {host: catalog}, weight: -5},"
        " {destination: {host: catalog, subset: v1}, weight: 105}]",
    )
    r = kubectl(demo, "apply", "-f", "-", stdin=bad)
    assert r.returncode == 1
    assert 'admission webhook "validation.istio.io" denied the request' in r.stderr
    assert "spec.http[0].route[0].weight: weight -5 < 0" in r.stderr
    assert (
        metric(demo, "galley_validation_failed", resource="virtualservices", reason="invalid_resource")
        == failed + 1
    )
    assert metric(demo, "pilot_xds_pushes") == pushes
    assert kubectl(demo, "get", "vs", "catalog", "-n", NS).returncode == 1
    assert versions == {
        k: route_version(a, "80" if k == "webapp" else "http.8080")
        for k, a in admins.items()
        if k != "catalog"
    }


SUBSETS = """apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: catalog, namespace: istioinaction}
spec:
  host: catalog.istioinaction.svc.cluster.local
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 7}}
    outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: catalog, namespace: istioinaction}
spec:
  hosts: [catalog]
  http:
  - route:
    - {destination: {host: catalog, subset: v1}, weight: 100}
    - {destination: {host: catalog, subset: v2}, weight: 0}
    timeout: 3s
"""


def test_destination_rule_subsets_and_weights_steer_the_calls(demo):
    webapp = demo.info["admin"]["webapp"]
    v1 = "outbound|80|v1|catalog.istioinaction.svc.cluster.local"
    r = kubectl(demo, "apply", "-f", "-", stdin=SUBSETS)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: len(synced(demo)) == 3, 10, "acked")
    wait_for(lambda: stat(webapp, f"cluster.{v1}.upstream_rq_total") >= 3, 20, "calls go to subset v1")
    dump = httpx.get(webapp + "/config_dump", params={"resource": "dynamic_active_clusters"}).json()
    clusters = {c["cluster"]["name"]: c["cluster"] for c in dump["configs"]}
    assert clusters[v1]["circuit_breakers"]["thresholds"][0]["max_connections"] == 7
    assert clusters[v1]["outlier_detection"]["consecutive_5xx"] == 5
    route = httpx.get(webapp + "/config_dump", params={"resource": "dynamic_route_configs"}).json()
    outbound = next(c["route_config"] for c in route["configs"] if c["route_config"]["name"] == "80")
    action = outbound["virtual_hosts"][0]["routes"][0]["route"]
    assert action["weighted_clusters"]["clusters"] == [{"name": v1, "weight": 100}]
    assert action["timeout"] == "3s"
    for kind in ("vs", "dr"):
        assert kubectl(demo, "delete", kind, "catalog", "-n", NS).returncode == 0
    wait_for(lambda: len(synced(demo)) == 3, 10, "acked after delete")


NACK_FILTER = """apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: broken-timeout, namespace: istioinaction}
spec:
  workloadSelector: {labels: {app: webapp}}
  configPatches:
  - applyTo: CLUSTER
    match: {cluster: {name: "outbound|80||catalog.istioinaction.svc.cluster.local"}}
    patch: {operation: MERGE, value: {connect_timeout: -1s}}
"""


def test_a_rejected_push_is_a_nack_until_the_filter_is_deleted(demo):
    rejects = metric(demo, "pilot_total_xds_rejects", type="cds")
    r = kubectl(demo, "apply", "-f", "-", stdin=NACK_FILTER)
    assert r.returncode == 0, r.stderr

    def webapp_row() -> dict:
        return next(x for x in istiod(demo, "/debug/syncz").json() if x["proxy"].startswith("webapp-"))

    wait_for(lambda: metric(demo, "pilot_total_xds_rejects", type="cds") > rejects, 10, "a CDS reject")
    row = webapp_row()
    assert row["cluster_sent"] != row["cluster_acked"]
    assert (
        metric(
            demo,
            "pilot_xds_cds_reject",
            node=f"sidecar~10.10.0.18~{demo.info['pods']['webapp']['name']}.{NS}~{NS}.svc.cluster.local",
        )
        >= 1
    )
    log = (demo.workdir / "mesh.log").read_text()
    # Envoy's own error_detail message, kept as istiod logs it
    assert re.search(r"ADS:CDS: ACK ERROR sidecar~\S+webapp\S+ Internal:.*Expected positive duration", log)
    # only webapp is selected: the others ack
    assert {x["proxy"].split("-")[0] for x in synced(demo)} == {"catalog", "istio"}
    r = kubectl(demo, "delete", "envoyfilter", "broken-timeout", "-n", NS)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: webapp_row()["cluster_sent"] == webapp_row()["cluster_acked"], 10, "webapp acks again")


def core_api(demo: MeshProcess) -> client.CoreV1Api:
    return client.CoreV1Api(client.ApiClient(config.new_client_from_config(demo.kubeconfig).configuration))


def envoy_get(core: client.CoreV1Api, pod: str, path: str) -> str:
    return pod_get(core, NS, pod, 15000, path)


def envoy_stat(core: client.CoreV1Api, pod: str, name: str) -> int:
    body = envoy_get(core, pod, f"/stats?filter=^{re.escape(name)}$")
    found = re.search(rf"^{re.escape(name)}: (\d+)$", body, flags=re.M)
    assert found, body
    return int(found.group(1))


def pods_of(core: client.CoreV1Api, app: str) -> list[str]:
    return sorted(p.metadata.name for p in core.list_namespaced_pod(NS, label_selector=f"app={app}").items)


def test_rollout_restart_replaces_the_pod_and_scale_adds_endpoints(demo):
    core = core_api(demo)
    (old,) = pods_of(core, "webapp")
    inbound = "http.inbound_0.0.0.0_8080.downstream_rq_total"
    old_served = wait_for(lambda: envoy_stat(core, old, inbound), 10, "webapp served requests")
    rv = core.list_namespaced_pod(NS).metadata.resource_version
    events: list[tuple[str, str, bool]] = []

    def run() -> None:
        w = watch.Watch()
        for ev in w.stream(core.list_namespaced_pod, NS, resource_version=rv, timeout_seconds=30):
            meta = ev["object"].metadata
            events.append((ev["type"], meta.name, meta.deletion_timestamp is not None))
            if ev["type"] == "DELETED" and meta.name == old:
                w.stop()

    t = threading.Thread(target=run)
    t.start()
    r = kubectl(demo, "rollout", "restart", "deployment/webapp", "-n", NS)
    assert r.returncode == 0 and "deployment.apps/webapp restarted" in r.stdout, r.stderr
    t.join(40)
    (new,) = pods_of(core, "webapp")
    assert new != old
    order = [(kind, name, terminating) for kind, name, terminating in events if name in (old, new)]
    assert (
        order.index(("ADDED", new, False))
        < order.index(("MODIFIED", old, True))
        < order.index(("DELETED", old, True))
    )
    assert old not in pods_of(core, "webapp")
    assert envoy_stat(core, new, inbound) < old_served  # a new Envoy: its counters started from zero
    assert envoy_stat(core, new, "server.uptime") < 30
    wait_for(lambda: len(synced(demo)) == 3, 10, "the new proxy is synced, the old one gone")

    r = kubectl(demo, "scale", "deployment/catalog", "--replicas=3", "-n", NS)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: len(pods_of(core, "catalog")) == 3, 30, "three catalog pods")

    def healthy() -> int:
        hosts = json.loads(envoy_get(core, new, "/clusters?format=json"))["cluster_statuses"]
        catalog = next(c for c in hosts if c["name"] == CATALOG)
        return sum(
            1
            for h in catalog.get("host_statuses", [])
            if h["health_status"]["eds_health_status"] == "HEALTHY"
        )

    wait_for(lambda: healthy() == 3, 20, "three healthy catalog endpoints in webapp's /clusters")
    assert metric(demo, "pilot_push_triggers", type="endpoint") >= 3
    wait_for(lambda: len(synced(demo)) == 5, 10, "five proxies synced")
    deploy = kubectl(demo, "get", "deployment", "catalog", "-n", NS)
    assert re.search(r"^catalog\s+3/3\s", deploy.stdout, flags=re.M), deploy.stdout


def test_stopping_the_demo_leaves_no_process(demo):
    everything = descendants(demo.proc.pid)
    started = envoys(everything)
    assert len(started) >= 5  # three catalog pods, webapp, the gateway
    demo.stop()
    wait_for(lambda: not any(alive(p) for p in everything), 15, "every process of the demo stopped")


def test_demo_prints_kubectl_commands_that_work_when_pasted():
    proc = subprocess.Popen(
        [sys.executable, "-m", "meshtui", "demo", "--no-tui", "--rate", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        lines: list[str] = []
        while not lines or lines[-1] != "Ctrl+C stops the mesh.":
            line = proc.stdout.readline()  # type: ignore[union-attr]
            assert line, f"the demo ended early: {lines}"
            lines.append(line.strip())
        commands = [ln for ln in lines if ln.startswith("kubectl --kubeconfig ")]
        assert len(commands) >= 4
        assert any("rollout restart deployment/webapp" in c for c in commands)
        assert any("scale deployment/catalog --replicas=3" in c for c in commands)
        env = {**os.environ, "PATH": f"{Path(KUBECTL).parent}:{os.environ['PATH']}"}
        listed = subprocess.run(
            ["bash", "-c", commands[0]], capture_output=True, text=True, timeout=60, env=env
        )
        assert listed.returncode == 0, listed.stderr
        assert "deployment.apps/webapp" in listed.stdout and "pod/catalog-" in listed.stdout
        fault = next(c for c in commands if "catalog-fault.yaml" in c)
        applied = subprocess.run(["bash", "-c", fault], capture_output=True, text=True, timeout=60, env=env)
        assert "virtualservice.networking.istio.io/catalog created" in applied.stdout, applied.stderr
        everything = descendants(proc.pid)
        assert len(envoys(everything)) == 3
        proc.send_signal(2)
        assert proc.wait(20) == 0
        wait_for(lambda: not any(alive(p) for p in everything), 15, "every process of the demo stopped")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
