"""Clusters and endpoints: the parser, `meshtui clusters`, and the pane on the demo mesh."""

from __future__ import annotations

import json
import time

from textual.widgets import TabbedContent

from helpers.cli import meshtui
from helpers.mesh import select_pod
from helpers.wait import until, wait_for
from meshtui.envoy.clusters import ClustersTracker, parse_cluster_name, parse_clusters
from meshtui.ui.app import MeshtuiApp, Options

CATALOG = "outbound|80||catalog.istioinaction.svc.cluster.local"

OLD_ENVOY = json.dumps(
    {
        "clusterStatuses": [
            {
                "name": "outbound|9080|v2|reviews.default.svc.cluster.local",
                "hostStatuses": [
                    {
                        "address": {"socketAddress": {"address": "10.1.2.3", "portValue": 9080}},
                        "stats": [
                            {"name": "rq_total", "value": "7"},
                            {"name": "rq_error", "value": "2"},
                            {"name": "cx_active"},
                        ],
                        "healthStatus": {"edsHealthStatus": "HEALTHY", "failedOutlierCheck": True},
                        "weight": 1,
                    },
                    {
                        "address": {"socketAddress": {"address": "10.1.2.4", "portValue": 9080}},
                        "healthStatus": {"edsHealthStatus": "UNHEALTHY"},
                    },
                ],
            }
        ]
    }
)


def test_istio_cluster_names():
    n = parse_cluster_name("outbound|80|v1|catalog.istioinaction.svc.cluster.local")
    assert (n.direction, n.port, n.subset, n.service) == (
        "outbound",
        "80",
        "v1",
        "catalog.istioinaction.svc.cluster.local",
    )
    n = parse_cluster_name("inbound|8080||")
    assert (n.direction, n.port, n.subset, n.service) == ("inbound", "8080", "", "")
    assert (
        parse_cluster_name("xds-grpc").service == "xds-grpc"
        and parse_cluster_name("xds-grpc").direction == ""
    )


def test_camel_case_keys_strings_and_missing_zeros():
    (c,) = parse_clusters(OLD_ENVOY)
    assert c.istio.subset == "v2" and len(c.hosts) == 2 and c.healthy == 0
    first, second = c.hosts
    assert first.address == "10.1.2.3:9080" and first.get("rq_total") == 7 and first.get("cx_active") == 0
    assert first.outlier_ejected and first.health == "HEALTHY (outlier-ejected)"
    assert second.eds_health == "UNHEALTHY" and second.get("rq_total") == 0


def test_rates_never_go_negative():
    t = ClustersTracker()
    t.update(parse_clusters(OLD_ENVOY), 0.0)
    snap = t.update(parse_clusters(OLD_ENVOY.replace('"7"', '"17"')), 2.0)
    assert snap.rq_rate["outbound|9080|v2|reviews.default.svc.cluster.local"] == 5.0
    snap = t.update(parse_clusters(OLD_ENVOY.replace('"7"', '"1"')), 3.0)  # counters reset
    assert not snap.rq_rate


def test_bad_clusters_bodies(tmp_path):
    for body in ("not json", "[]", '{"cluster_statuses": [{"nope": 1}]}'):
        f = tmp_path / "c.json"
        f.write_text(body)
        r = meshtui("clusters", "--file", str(f))
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def _catalog(mesh) -> dict:
    r = meshtui("clusters", "--admin", mesh.info["admin"]["webapp"], "--json")
    assert r.returncode == 0, r.stderr
    return next(c for c in json.loads(r.stdout) if c["name"] == CATALOG)


def test_headless_clusters_live(mesh):
    first = wait_for(lambda: _catalog(mesh)["rq_total"] > 0 and _catalog(mesh), 20, "catalog requests")
    assert first["direction"] == "outbound" and first["port"] == "80"
    assert [e["health"] for e in first["endpoints"]] == ["HEALTHY"]
    wait_for(lambda: _catalog(mesh)["rq_total"] > first["rq_total"], 20, "requests growing")
    r = meshtui("clusters", "--admin", mesh.info["admin"]["webapp"])
    assert "catalog.istioinaction.svc.cluster.local" in r.stdout and "SERVICE FQDN" in r.stdout


async def test_cluster_endpoints_and_jump_to_stats(mesh):
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.3))
    async with app.run_test(size=(160, 48)) as pilot:
        await select_pod(app, pilot, "webapp", mesh)
        app.query_one(TabbedContent).active = "tab-clusters"
        pane = app.clusters
        await until(lambda: CATALOG in pane.table.rows, 10, "catalog cluster row")
        table = pane.table
        table.focus()
        table.move_to_key(CATALOG)
        await until(lambda: pane._hosts_for == CATALOG and pane.hosts.row_count, 5, "endpoints of catalog")
        assert pane.hosts.row_count == 1
        row = pane.hosts.get_row_at(0)
        assert row[1] == "HEALTHY"
        await until(lambda: pane.last.snapshot.rq_rate.get(CATALOG, 0) > 0, 10, "request rate")
        # what the rates count is on screen: the endpoints' own counters, which a request a
        # fault filter aborts never reaches (RQ/S and ERR % count the same requests)
        state = pane.query_one("#clusters-state")
        text = str(state.render())
        assert text.endswith("endpoint counts, no fault aborts")
        # whole at 160 columns, once the error window is full (before, it says it warms up)
        assert "warming up" in text or state.content_region.width >= len(text)
        await pilot.press("s")
        await until(lambda: app.query_one(TabbedContent).active == "tab-stats", 3, "stats tab")
        rows = await until(lambda: app.stats.table.rows if app.stats.table.filter.text else None, 5, "filter")
        assert app.stats.table.filter.text == f"cluster.{CATALOG}."
        assert rows and all(r.startswith(f"cluster.{CATALOG}.") for r in rows)


async def test_a_shown_again_tab_describes_only_the_polls_since(mesh):
    """Hidden for a while, the Clusters tab came back with rates and an error % over a
    window reaching into the hidden time (a fault removed 20 s before still read 57%),
    and blank ERR columns with nothing saying why. Shown again, its window starts then,
    and the state line says it is warming up."""
    app = MeshtuiApp(Options(admin=mesh.info["admin"]["webapp"], interval=0.3))
    async with app.run_test(size=(160, 48)) as pilot:
        tabs = app.query_one(TabbedContent)
        tabs.active = "tab-clusters"
        pane = app.clusters
        await until(
            lambda: pane.last and pane.last.snapshot and pane.last.snapshot.window_s > 1.0, 10, "a window"
        )
        tabs.active = "tab-stats"
        await pilot.pause()
        assert pane.feed.paused
        hidden = pane.last
        since = time.monotonic()
        # hidden long enough that a window kept across it would reach into the hidden time
        await until(lambda: time.monotonic() - since > 2.5, 5, "2.5 s hidden")
        tabs.active = "tab-clusters"
        first = await until(lambda: pane.last is not hidden and pane.last, 5, "a poll once shown")
        assert first.snapshot.window_s == 0 and not first.snapshot.error_pct and not first.snapshot.rq_rate
        state = pane.query_one("#clusters-state")
        assert "warming up" in str(state.render())
        later = await until(lambda: pane.last.snapshot.window_s > 0 and pane.last, 5, "the window growing")
        # every figure since describes only the polls after the tab came back
        assert later.snapshot.window_s < 2.0, later.snapshot.window_s


async def test_clusters_poll_only_while_shown(mesh):
    app = MeshtuiApp(Options(admin=mesh.info["admin"]["catalog"], interval=0.3))
    async with app.run_test(size=(120, 40)):
        await until(lambda: app.stats.table.rows, 10, "stats")
        assert app.clusters.last is None and app.clusters.feed.paused  # hidden tab: no polls
        app.query_one(TabbedContent).active = "tab-clusters"
        await until(lambda: app.clusters.last and app.clusters.last.snapshot, 5, "clusters once shown")


def test_headless_clusters_and_config_through_a_port_forward(mesh):
    from helpers.mesh import pod_name

    pod = pod_name(mesh, "webapp")
    r = meshtui("clusters", pod, "-n", "istioinaction", "--kubeconfig", mesh.kubeconfig, "--json")
    assert r.returncode == 0, r.stderr
    assert any(c["name"] == CATALOG for c in json.loads(r.stdout))
    r = meshtui("config", pod, "-n", "istioinaction", "--kubeconfig", mesh.kubeconfig, "--section", "routes")
    assert r.returncode == 0 and CATALOG in r.stdout
    r = meshtui("clusters", "gone-pod", "-n", "istioinaction", "--kubeconfig", mesh.kubeconfig)
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def _cluster(total: int, errors: int) -> list:
    from meshtui.envoy.clusters import ClusterStatus, HostHealth

    host = HostHealth(
        "10.0.0.1:80", "HEALTHY", False, False, 1, "-", (("rq_total", total), ("rq_error", errors))
    )
    return [ClusterStatus(CATALOG, parse_cluster_name(CATALOG), (host,))]


def test_error_rate_is_smoothed_over_the_window():
    """10 requests a second, one error every second poll: a 10% error rate reads as 10%,
    steady, not 0%, 20%, 0%, ... poll by poll."""
    tracker = ClustersTracker(window_s=10.0)
    total = errors = 0
    seen = []
    for t in range(25):
        total += 10
        errors += 2 if t % 2 else 0
        snap = tracker.update(_cluster(total, errors), float(t))
        seen.append((snap.error_rate.get(CATALOG, 0.0), snap.error_pct.get(CATALOG, 0.0), snap.window_s))
    rate, pct, window = seen[-1]
    assert window == 10.0
    assert abs(pct - 10.0) < 0.01 and abs(rate - 1.0) < 0.01
    assert all(abs(p - 10.0) < 0.01 for _, p, _ in seen[12:])  # every poll once the window is full
    # a counter reset inside the window gives no figure rather than a wrong one
    snap = tracker.update(_cluster(5, 0), 25.0)
    assert CATALOG not in snap.error_pct and CATALOG not in snap.error_rate
