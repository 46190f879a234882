"""The Control plane place against the demo's istiod (real xDS to real Envoys), changed
with real kubectl: pushes and convergence move, a NACK shows STALE, `d` and `enter` work."""

from __future__ import annotations

import re

from helpers.kubectl import kubectl, needs_kubectl
from helpers.mesh import api_tls, pod_name
from helpers.wait import until, wait_for
from meshtui.demo.examples import CATALOG_FAULT
from meshtui.istiod.syncz import STALE
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.istiod.config_diff import ConfigDiffScreen
from meshtui.ui.istiod.pane import IstiodPane

pytestmark = needs_kubectl
NS = "istioinaction"

VS_TIMEOUT = """apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: catalog-timeout, namespace: istioinaction}
spec:
  hosts: [catalog]
  http:
  - route: [{destination: {host: catalog}}]
    timeout: 7s
"""
# Envoy refuses a negative duration: istiod's CDS push to webapp is NACKed
NACK_FILTER = """apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: pane-broken-timeout, namespace: istioinaction}
spec:
  workloadSelector: {labels: {app: webapp}}
  configPatches:
  - applyTo: CLUSTER
    match: {cluster: {name: "outbound|80||catalog.istioinaction.svc.cluster.local"}}
    patch: {operation: MERGE, value: {connect_timeout: -1s}}
"""


async def test_the_demo_istiod_moves_nacks_diffs_and_opens_pods(mesh):
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.3))
    webapp = mesh.info["pods"]["webapp"]["name"]
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            pane = app.query_one(IstiodPane)
            await pilot.press("2")
            await until(lambda: pane.last is not None and pane.last.total is not None, 20, "the demo istiod")
            total = pane.last.total
            assert total.connected_total >= 3 and total.root_cert is not None and total.services is not None
            assert "proxies" in str(app.query_one("#istiod-summary").render())
            await until(lambda: len(pane.proxies.rows) >= 3, 10, "every proxy's sync status")
            rds, converged = total.pushes["rds"].value, total.convergence.count

            r = kubectl(mesh, "apply", "-f", "-", stdin=VS_TIMEOUT)
            assert r.returncode == 0, r.stderr
            await until(
                lambda: (
                    pane.last.total.pushes["rds"].value > rds
                    and pane.last.total.convergence.count > converged
                    and pane.last.total.virtual_services >= 1
                ),
                5,
                "pushes and convergence moving after kubectl apply",
            )
            await until(lambda: max(pane.last.trends.pushes_per_s, default=0) > 0, 5, "pushes/s sparkline")

            r = kubectl(mesh, "apply", "-f", "-", stdin=NACK_FILTER)
            assert r.returncode == 0, r.stderr

            def webapp_row():
                return next((pane.proxies.by_key[k] for k in pane.proxies.rows if k.startswith(webapp)), None)

            # CDS itself, NACKed: during a push another type can be STALE for a poll (sent, not yet ACKed)
            await until(
                lambda: webapp_row() is not None and webapp_row().statuses[0].status == STALE,
                10,
                "webapp STALE on CDS",
            )
            row = webapp_row()
            assert row.statuses[0].status == STALE and row.statuses[0].nack == "rejected (Internal)"
            assert pane.proxies.rows[0].startswith(webapp)  # STALE first
            pane.proxies.focus()
            pane.proxies.move_to_key(pane.proxies.rows[0])
            await until(lambda: "CDS NACK" in str(app.query_one("#istiod-proxy-detail").render()), 3, "NACK")
            await pilot.press("d")
            await until(lambda: isinstance(app.screen, ConfigDiffScreen), 15, "the diff")
            text = str(app.screen.query_one("#config-diff").render())
            assert "Clusters Don't Match" in text and '"connect_timeout": "-1s"' in text
            await pilot.press("escape")
            await pilot.press("enter")
            await until(lambda: app.place == "proxies", 3, "the Proxies place")
            await until(lambda: app.pods.selected and app.pods.selected.name == webapp, 10, "webapp selected")
            assert app.query_one("#views").active == "tab-stats"
    finally:
        kubectl(mesh, "delete", "envoyfilter", "pane-broken-timeout", "-n", NS)
        kubectl(mesh, "delete", "vs", "catalog-timeout", "-n", NS)


def test_headless_live_reads_the_demo_istiod(mesh, capsys):
    import json

    from meshtui.cli import main

    assert main(["istiod", "live", "--kubeconfig", mesh.kubeconfig, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["connected_proxies_total"] >= 3 and doc["replicas"][0]["replica"].startswith("istiod-")
    assert doc["root_cert_expiry"]["utc"].endswith("Z")
    assert main(["syncz", "live", "--kubeconfig", mesh.kubeconfig, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["pod"].split("-")[0] for r in rows} >= {"webapp", "catalog", "istio"}
    assert all(set(r) >= {"CDS", "LDS", "EDS", "RDS", "ECDS"} for r in rows)


def pod_names(mesh, workload: str) -> list[str]:
    import httpx

    r = httpx.get(
        f"{mesh.info['api']}/api/v1/namespaces/{NS}/pods",
        params={"labelSelector": f"app={workload}"},
        headers={"Authorization": f"Bearer {mesh.info['token']}"},
        verify=api_tls(mesh),
    )
    return [p["metadata"]["name"] for p in r.json()["items"]]


async def test_a_pod_scaled_away_is_not_followed_to_a_sibling(mesh):
    """Scaled from 3 to 1 under the view of one of the two removed replicas: the toast said
    it `was replaced: following catalog-...` (another replica), or the view emptied while the
    status line still said `stats live`. It says deleted (scaled down), keeps the last
    figures dimmed, and does not move to a sibling that was there all along."""
    from textual.widgets import TabbedContent

    from meshtui.ui.proxies.messages import PodSelected

    original = pod_name(mesh, "catalog")
    followed: list[PodSelected] = []
    try:
        assert kubectl(mesh, "scale", "deployment/catalog", "--replicas=3", "-n", NS).returncode == 0
        app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.3))

        def hook(message: object) -> None:
            if isinstance(message, PodSelected) and message.followed_from:
                followed.append(message)

        async with app.run_test(size=(160, 48), message_hook=hook) as pilot:
            catalogs = lambda: [k for k in app.pods._shown if k.startswith(f"{NS}/catalog-")]  # noqa: E731
            await until(lambda: len(catalogs()) == 3, 30, "three catalog replicas")
            extra = next(k for k in catalogs() if not k.endswith(original))
            app.pods.table.focus()
            app.pods.table.move_to_key(extra)
            await pilot.press("enter")
            app.query_one(TabbedContent).active = "tab-stats"
            await until(lambda: app.stats.table.snapshot and app.stats.table.rows, 15, "the replica's stats")
            assert kubectl(mesh, "scale", "deployment/catalog", "--replicas=1", "-n", NS).returncode == 0
            await until(lambda: extra not in app.pods._shown, 30, "the replica scaled away")
            state = app.stats.query_one("#stats-state")
            try:
                await until(lambda: "scaled down" in str(state.render()), 15, "said deleted, scaled down")
            except AssertionError:  # what the app made of it, to read the failure by
                seen = (str(state.render()), [m.pod.name for m in followed], app.pods.following, extra)
                raise AssertionError(seen) from None
            assert not followed, [m.pod.name for m in followed]
            assert app.pods.selected is not None and f"{NS}/{app.pods.selected.name}" == extra
            # its last figures stay, dimmed, and nothing says they are live
            assert app.stats.table.snapshot is not None and app.stats.table.rows
            assert app.stats.table.has_class("stale") and not app.stats.table.snapshot.rates
            await until(lambda: "stats live" not in str(app.status.render_text()), 3, "not live any more")
    finally:
        kubectl(mesh, "scale", "deployment/catalog", "--replicas=1", "-n", NS)
        wait_for(lambda: pod_names(mesh, "catalog") == [original], 30, "catalog back to its one pod")


# the demo's own example (`meshtui demo` suggests it), aborting every request instead of half
FULL_ABORT = CATALOG_FAULT.replace("value: 50", "value: 100")
assert FULL_ABORT != CATALOG_FAULT


async def test_a_fault_that_aborts_every_request_shows_on_the_clusters_row(mesh):
    """With a 100% abort, catalog's row in webapp's Clusters had a blank RQ/S and no
    errors: the aborts are answered inside webapp's Envoy and never reach the cluster.
    The row is marked and says what the fault does, with the aborts the filter counted."""
    from textual.widgets import TabbedContent

    from helpers.mesh import select_pod
    from meshtui.ui.proxies.clusters import FAULT_MARK

    catalog = "outbound|80||catalog.istioinaction.svc.cluster.local"
    try:
        assert kubectl(mesh, "apply", "-f", "-", stdin=FULL_ABORT).returncode == 0
        app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.3))
        async with app.run_test(size=(160, 48)) as pilot:
            await select_pod(app, pilot, "webapp", mesh)
            app.query_one(TabbedContent).active = "tab-clusters"
            pane = app.clusters
            await until(lambda: catalog in pane.table.faults, 15, "the route's fault read")
            assert (
                pane.table.faults[catalog].abort_pct == 100 and pane.table.faults[catalog].abort_status == 503
            )
            state = pane.query_one("#clusters-state")
            await until(
                lambda: re.search(r"\d+ aborts injected", str(state.render())) and pane.aborts_injected > 0,
                15,
                "the aborts counted",
            )
            said = f"{FAULT_MARK}fault filter: 100% aborted with 503 on route 80 / catalog"
            assert state.text.startswith(said) and str(state.render()).startswith(said[:30]), state.text
            row = "".join(s.text for s in pane.table.row_segments(catalog, 160))
            assert row.startswith(FAULT_MARK + "catalog.istioinaction"), row
    finally:
        kubectl(mesh, "delete", "virtualservice", "catalog", "-n", NS)
