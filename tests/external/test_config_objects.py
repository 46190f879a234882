"""Routes name their VirtualService and clusters their DestinationRule (from the `istio`
metadata the demo's istiod writes, as istiod does), and `enter` on either shows the object
as the Kubernetes API has it; applied and removed with real kubectl."""

from __future__ import annotations

from textual.widgets import TabbedContent, Tabs

from helpers.kubectl import kubectl, needs_kubectl
from helpers.mesh import select_pod
from helpers.wait import until
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.proxies.config_object import ConfigObjectScreen

pytestmark = needs_kubectl
NS = "istioinaction"
OBJECTS = """apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: catalog-objects, namespace: istioinaction}
spec:
  hosts: [catalog]
  http:
  - match: [{uri: {prefix: /items}}]
    route: [{destination: {host: catalog, subset: v1}}]
    timeout: 3s
  - route: [{destination: {host: catalog}}]
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: catalog-objects, namespace: istioinaction}
spec:
  host: catalog
  subsets: [{name: v1, labels: {version: v1}}]
"""


async def test_enter_on_a_route_or_cluster_shows_its_istio_object(mesh):
    r = kubectl(mesh, "apply", "-f", "-", stdin=OBJECTS)
    assert r.returncode == 0, r.stderr
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.5))
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await select_pod(app, pilot, "webapp", mesh)
            app.query_one(TabbedContent).active = "tab-config"
            pane = app.config
            pane.query_one(Tabs).active = "section-routes"

            def made_by_vs() -> list[dict]:
                return [row for row in pane.shown if row.get("virtual_service") == f"catalog-objects.{NS}"]

            # istiod pushes the VirtualService; `r` reads the dump again until it is there
            for _ in range(20):
                await pilot.press("r")
                try:
                    await until(
                        lambda: pane.section == "routes" and made_by_vs(), 1, "the VirtualService's routes"
                    )
                    break
                except AssertionError:
                    continue
            rows = made_by_vs()
            assert {row["match"] for row in rows} == {"/items*", "/*"}, rows
            pane.table.focus()
            pane.table.move_to_key(str(pane.shown.index(rows[0])))
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ConfigObjectScreen), 5, "the object screen")
            screen = app.screen
            state = screen.query_one("#object-state")
            await until(
                lambda: screen.found is not None or state.has_class("error"), 10, "the VirtualService read"
            )
            assert screen.found is not None, str(state.render())
            assert (
                screen.found["kind"] == "VirtualService"
                and screen.found["spec"]["http"][0]["timeout"] == "3s"
            )
            assert "VirtualService istioinaction/catalog-objects" in str(
                screen.query_one("#object-title").render()
            )
            await pilot.press("escape")
            await until(lambda: not isinstance(app.screen, ConfigObjectScreen), 3, "closed")

            pane.query_one(Tabs).active = "section-clusters"
            await until(
                lambda: (
                    pane.section == "clusters"
                    and any(row["destination_rule"] == f"catalog-objects.{NS}" for row in pane.shown)
                ),
                5,
                "the DestinationRule's clusters",
            )
            subset = next(row for row in pane.shown if row["subset"] == "v1")
            assert subset["destination_rule"] == f"catalog-objects.{NS}"
            pane.table.focus()
            pane.table.move_to_key(str(pane.shown.index(subset)))
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ConfigObjectScreen) and app.screen.found, 10, "the DR")
            assert app.screen.found["kind"] == "DestinationRule"
            await pilot.press("escape")

            # a cluster no DestinationRule made says so, and opens nothing
            plain = next(row for row in pane.shown if not row["destination_rule"])
            pane.table.move_to_key(str(pane.shown.index(plain)))
            await pilot.press("enter")
            await pilot.pause()
            assert not isinstance(app.screen, ConfigObjectScreen)

            # deleted meanwhile: the screen says what the API server says, in one line
            assert kubectl(mesh, "delete", "vs", "catalog-objects", "-n", NS).returncode == 0
            pane.query_one(Tabs).active = "section-routes"
            await until(lambda: pane.section == "routes" and made_by_vs(), 5, "the routes still in the dump")
            pane.table.move_to_key(str(pane.shown.index(made_by_vs()[0])))
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ConfigObjectScreen), 5, "the object screen")
            state = app.screen.query_one("#object-state")
            await until(lambda: state.has_class("error"), 10, "the 404")
            text = str(state.render())
            assert "not found (404)" in text and "kubectl get virtualservices.networking.istio.io" in text
            assert "\n" not in text.strip()
    finally:
        kubectl(mesh, "delete", "vs", "catalog-objects", "-n", NS)
        kubectl(mesh, "delete", "dr", "catalog-objects", "-n", NS)
