"""The Mesh place on the demo's real Prometheus: the services and the edges of Kiali's graph
with their rates, the catalog fault showing as catalog's 5xx share within two scrape
intervals and one refresh, the PromQL on `p`, and `enter` leading to the proxies."""

from __future__ import annotations

import time

from helpers.mesh import pod_name
from helpers.wait import until
from meshtui.ui.app import MeshtuiApp, Options

CATALOG = "catalog.istioinaction.svc.cluster.local"
WEBAPP = "webapp.istioinaction.svc.cluster.local"
SCRAPE_S, REFRESH_S, FLUSH_S = 5.0, 5.0, 1.0  # the demo's Prometheus, the place, Envoy's access log


def annotate_catalog(mesh, fault: str | None) -> None:
    from kubernetes import client, config

    core = client.CoreV1Api(config.new_client_from_config(str(mesh.kubeconfig)))
    body = {"metadata": {"annotations": {"demo.meshtui/fault": fault}}}
    core.patch_namespaced_pod(pod_name(mesh, "catalog"), "istioinaction", body)


async def test_services_edges_fault_and_the_way_to_the_proxies(mesh):
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("colon", *"mesh", "enter")
        await until(lambda: app.place == "mesh", 5, "the Mesh place")
        pane = app.place_widget("mesh")
        table = pane.table
        edges = {f"istio-ingressgateway.istio-system>{WEBAPP}", f"webapp.istioinaction>{CATALOG}"}
        await until(
            lambda: (
                edges | {CATALOG, WEBAPP} <= {k for k, r in table.by_key.items() if (r.get("rps") or 0) > 0.5}
            ),
            60,
            "both services and both edges with rates",
        )
        before = table.by_key[CATALOG].get("error_pct") or 0.0
        annotate_catalog(mesh, "abort=100")
        try:
            started = time.monotonic()
            await until(
                lambda: (table.by_key[CATALOG].get("error_pct") or 0.0) > before + 10,
                2 * SCRAPE_S + REFRESH_S + FLUSH_S,
                "catalog's 5xx share up within two scrapes and one refresh",
            )
            print(f"seen after {time.monotonic() - started:.1f}s")
        finally:
            annotate_catalog(mesh, None)
        # the PromQL, pastable
        await pilot.press("p")
        await until(lambda: type(app.screen).__name__ == "QueriesScreen", 5, "the queries")
        assert "histogram_quantile(0.99" in str(app.screen.query_one("Static").render())
        await pilot.press("escape")
        # enter on an edge: the calling pod's Clusters tab, filtered to the destination
        table.focus()
        table.move_to_key(f"webapp.istioinaction>{CATALOG}")
        await pilot.press("enter")
        await until(lambda: app.place == "proxies", 10, "the Proxies place")
        await until(
            lambda: app.pods.selected and app.pods.selected.workload == "webapp", 10, "webapp selected"
        )
        clusters = app.query_one("#clusters")
        assert clusters.text_filter == CATALOG


async def test_without_prometheus_the_place_says_what_it_looked_for(mesh):
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, prometheus_service="istio-system/nope"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon", *"mesh", "enter")
        pane = app.place_widget("mesh")
        state = pane.query_one("#mesh-state")
        await until(
            lambda: "no Prometheus: looked for service istio-system/nope:9090" in state.text, 15, "why"
        )
        assert "samples/addons/prometheus.yaml" in state.text
        await pilot.press("1")
        assert app.place == "proxies"  # the rest of the app goes on
