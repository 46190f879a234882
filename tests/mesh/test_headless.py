"""`meshtui stats` as scripts use it: files, live pods through a forward, --admin."""

from __future__ import annotations

import json

from helpers.cli import meshtui
from helpers.mesh import pod_name
from helpers.wait import wait_for


def test_stats_file_json_one_entry_per_line(fixtures):
    path = fixtures / "seed" / "catalog-sidecar-stats.txt"
    r = meshtui("stats", "--file", str(path), "--json")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    assert len(recs) == len(lines)
    assert {"name", "kind", "value"} <= set(recs[0])
    kinds = {rec["name"]: rec["kind"] for rec in recs}
    assert kinds["cluster_manager.cds.version_text"] == "text"
    assert set(kinds.values()) <= {
        "unknown",
        "text",
        "histogram",
    }  # text can't tell counters from gauges
    hist = [rec for rec in recs if rec["kind"] == "histogram"]
    assert hist and all("quantiles" in rec for rec in hist)
    full = [rec for rec in hist if rec["quantiles"]]
    assert all(set(rec["quantiles"]["P99"]) == {"interval", "cumulative"} for rec in full)


def test_stats_file_prefix_and_regex(fixtures):
    path = str(fixtures / "seed" / "webapp-stats-grep-catalog-after-inclusion.txt")
    r = meshtui("stats", "--file", path, "--prefix", "cluster.outbound|80||catalog", "--json")
    names = [rec["name"] for rec in json.loads(r.stdout)]
    assert names and all(n.startswith("cluster.outbound|80||catalog") for n in names)
    r = meshtui("stats", "--file", path, "--prefix", "re:upstream_rq_2xx$", "--json")
    names = [rec["name"] for rec in json.loads(r.stdout)]
    assert names and all(n.endswith("upstream_rq_2xx") for n in names)


def test_stats_file_text_output(fixtures):
    r = meshtui(
        "stats",
        "--file",
        str(fixtures / "seed" / "catalog-sidecar-stats.txt"),
        "--prefix",
        "server.",
    )
    assert r.returncode == 0
    assert "server.initialization_time_ms: P50=-/155" in r.stdout


def test_bad_input_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("this is not\nan envoy stats body\n")
    for args in (("--file", str(bad)), ("--file", str(tmp_path / "missing.txt")), ()):
        r = meshtui("stats", *args)
        assert r.returncode == 2
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("meshtui: "), r.stderr
        assert "Traceback" not in r.stderr
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    r = meshtui("stats", "--file", str(binary))
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_missing_kubeconfig_exits_2(tmp_path):
    r = meshtui("stats", "somepod", "-n", "ns", "--kubeconfig", str(tmp_path / "nope"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "kubeconfig" in r.stderr


def _catalog_total(mesh, *extra: str) -> int:
    r = meshtui(
        "stats",
        pod_name(mesh, "webapp"),
        "-n",
        "istioinaction",
        "--kubeconfig",
        mesh.kubeconfig,
        "--prefix",
        "cluster.outbound",
        "--json",
        *extra,
    )
    assert r.returncode == 0, r.stderr
    recs = {rec["name"]: rec for rec in json.loads(r.stdout)}
    rec = recs["cluster.outbound|80||catalog.istioinaction.svc.cluster.local.upstream_rq_total"]
    assert rec["kind"] == "counter"  # live: Envoy told us
    return rec["value"]


def test_live_pod_stats_grow_between_calls(mesh):
    first = wait_for(lambda: _catalog_total(mesh), 20, "catalog requests above zero")
    assert first > 0
    wait_for(lambda: _catalog_total(mesh) > first, 20, "upstream_rq_total growing")


def test_live_admin_url(mesh):
    r = meshtui("stats", "--admin", mesh.info["admin"]["catalog"], "--prefix", "server.", "--json")
    recs = {rec["name"]: rec for rec in json.loads(r.stdout)}
    assert recs["server.live"]["kind"] == "gauge" and recs["server.live"]["value"] == 1
    assert recs["server.initialization_time_ms"]["kind"] == "histogram"


def test_live_errors_exit_2(mesh):
    r = meshtui("stats", "no-such-pod", "-n", "istioinaction", "--kubeconfig", mesh.kubeconfig)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "404" in r.stderr
    r = meshtui("stats", "--admin", "http://127.0.0.1:9")
    assert r.returncode == 2 and "cannot connect" in r.stderr and r.stderr.count("\n") == 1
