"""The config tab on the demo's real Envoys: every section, the JSON tree, tracing health."""

from __future__ import annotations

import asyncio
from http.server import BaseHTTPRequestHandler

import pytest
from textual.widgets import TabbedContent, Tabs, Tree

from helpers.loopback import loopback_http
from helpers.mesh import select_pod
from helpers.wait import until
from meshtui.envoy.config_dump import SECTIONS
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.proxies.config import ALL_SECTIONS, ConfigPane
from meshtui.ui.proxies.config_object import ConfigObjectScreen


async def open_config(app: MeshtuiApp, pilot, workload: str, mesh) -> None:  # type: ignore[no-untyped-def]
    await select_pod(app, pilot, workload, mesh)
    app.query_one(TabbedContent).active = "tab-config"
    await until(lambda: app.config.doc is not None and app.config.tracing is not None, 10, "config fetched")


async def test_every_section_renders_live(mesh):
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.5))
    async with app.run_test(size=(160, 48)) as pilot:
        await open_config(app, pilot, "webapp", mesh)
        pane = app.config
        for section in ALL_SECTIONS:
            pane.query_one("Tabs").active = f"section-{section}"
            # the demo's proxies get no extension configs (ECDS): that section says so instead
            await until(
                lambda s=section: pane.section == s and (len(pane.table.rows) > 0 or s == "ecds"),
                5,
                f"{section} rows",
            )
        pane.query_one("Tabs").active = "section-secrets"
        await until(lambda: pane.section == "secrets", 3, "secrets")
        spiffe = [r["spiffe_id"] for r in pane.shown if r["name"] == "default"]
        assert spiffe == ["spiffe://cluster.local/ns/istioinaction/sa/webapp"]
        tree = pane.query_one(Tree)
        labels = []

        def walk(node) -> None:  # type: ignore[no-untyped-def]
            labels.append(str(node.label))
            for child in node.children:
                walk(child)

        walk(tree.root)
        assert any("certificate_chain" in lab for lab in labels)
        assert not any("PRIVATE KEY" in lab for lab in labels)


async def test_tracing_health_flags_the_broken_bootstrap(mesh):
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.5))
    async with app.run_test(size=(160, 48)) as pilot:
        await open_config(app, pilot, "catalog", mesh)
        pane = app.config
        pane.query_one("Tabs").active = "section-tracing"
        await until(lambda: pane.section == "tracing" and pane.shown, 5, "tracing rows")
        verdicts = {r["check"]: r["verdict"] for r in pane.shown}
        assert verdicts["collector endpoint"].startswith("WRONG")
        # the failing checks first: at 80x24 the table shows two or three rows
        assert pane.shown[0]["check"] == "collector endpoint", [r["check"] for r in pane.shown]
        # the collector answers 404 to each span report: refetch until the first reports are in
        for _ in range(30):
            if pane.tracing.failed_reports:
                break
            pane.action_refresh_now()
            await asyncio.sleep(0.5)
        assert pane.tracing.failed_reports > 0
        assert any("404" in p for p in pane.tracing.problems)
        state = str(pane.query_one("#config-state").render())
        assert "✗" in state

        await select_pod(app, pilot, "webapp", mesh)
        await until(
            lambda: pane.tracing is not None and pane.endpoint.label.startswith("webapp"), 10, "webapp"
        )
        assert not pane.tracing.problems and pane.tracing.collector_endpoint == "/api/v2/spans"


@pytest.fixture(params=["productpage-v1-c7765c886-v99jb.json", "istio-ingressgateway-5bf6c9887-vvvmj.json"])
def captured_admin(request, fixtures):
    """A loopback stand-in for an Envoy admin that answers /config_dump with an istioctl capture."""
    body = (fixtures / "upstream" / "istio" / request.param).read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            data = (
                body if path == "/config_dump" else b"" if path == "/stats" else b'{"cluster_statuses": []}'
            )
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    with loopback_http(Handler) as url:
        yield url


async def open_captured_config(app: MeshtuiApp, pilot) -> ConfigPane:  # type: ignore[no-untyped-def]
    await pilot.pause()
    app.query_one(TabbedContent).active = "tab-config"
    await until(lambda: app.config.doc is not None, 10, "config fetched")
    return app.config


async def test_every_section_of_the_captures_renders_in_the_app(captured_admin):
    app = MeshtuiApp(Options(admin=captured_admin, interval=5))
    async with app.run_test(size=(160, 48)) as pilot:
        pane = await open_captured_config(app, pilot)
        for section in SECTIONS:
            pane.query_one("Tabs").active = f"section-{section}"
            await until(lambda s=section: pane.section == s, 3, section)
            await pilot.pause()
            if section in ("secrets", "endpoints", "ecds"):
                assert len(pane.table.rows) == 0  # these captures carry no SDS, EDS or ECDS section
                state = str(pane.query_one("#config-state").render())
                assert state.startswith(f"{section}: no "), state  # says why, not "0 of 0 rows"
            else:
                assert len(pane.table.rows) > 0, section
                assert pane.query_one(Tree).root.children  # the selected row as JSON


@pytest.mark.parametrize("captured_admin", ["productpage-v1-c7765c886-v99jb.json"], indirect=True)
async def test_enter_without_a_cluster_says_how_to_read_it(captured_admin):
    """--admin: no Kubernetes API, so the object is named with the kubectl that reads it."""
    app = MeshtuiApp(Options(admin=captured_admin, interval=5))
    async with app.run_test(size=(160, 48)) as pilot:
        pane = await open_captured_config(app, pilot)
        pane.query_one(Tabs).active = "section-clusters"
        await until(lambda: pane.section == "clusters" and pane.shown, 5, "clusters")
        marked = [row for row in pane.shown if row.get("_config_path")]
        assert marked, "the capture's clusters carry istiod's metadata"
        pane.table.focus()
        pane.table.move_to_key(str(pane.shown.index(marked[0])))
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ConfigObjectScreen)
        assert any("no Kubernetes API here" in str(n.message) for n in app._notifications)
