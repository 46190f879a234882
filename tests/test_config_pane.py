"""The config tab on the demo's real Envoys: every section, the JSON tree, tracing health."""

from __future__ import annotations

import asyncio

from textual.widgets import TabbedContent, Tree

from conftest import select_pod, until
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.widgets.config import ALL_SECTIONS


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
            await until(
                lambda s=section: pane.section == s and pane.table.row_count > 0, 5, f"{section} rows"
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
