"""Each Config section in the app shows the rows `meshtui config --section S --json` prints
(istioctl's rows: tests/unit/test_istioctl_parity.py), for the demo's webapp sidecar and its
gateway, at 160x48 and 80x24."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from textual.widgets import TabbedContent

from helpers.cli import meshtui
from helpers.mesh import select_pod
from helpers.wait import until
from meshtui.envoy.config_dump import COLUMNS, SECTIONS, cell, public
from meshtui.ui.app import MeshtuiApp, Options

PROXIES = (("webapp", "istioinaction"), ("istio-ingressgateway", "istio-system"))
MOVING = {"expires_in"}  # minutes left on a certificate: may tick between the two reads


def comparable(section: str, found: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    keys = [k for k, _ in COLUMNS[section] if k not in MOVING]
    return sorted(tuple(cell(r.get(k, "")) for k in keys) for r in found)


@pytest.mark.parametrize("section", SECTIONS)
async def test_config_section_shows_the_headless_rows(mesh, section):
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.5))
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.config
        for workload, namespace in PROXIES:
            name = await select_pod(app, pilot, workload, mesh, namespace)
            app.query_one(TabbedContent).active = "tab-config"
            await until(
                lambda n=name: pane.doc is not None and n in pane.endpoint.label, 10, f"{name}'s config"
            )
            pane.query_one("Tabs").active = f"section-{section}"
            await until(lambda: pane.section == section, 5, section)
            r = await asyncio.to_thread(
                meshtui, "config", "--admin", mesh.info["admin"][workload], "--section", section, "--json"
            )
            assert r.returncode == 0, r.stderr
            headless = json.loads(r.stdout)
            assert comparable(section, [public(x) for x in pane.shown]) == comparable(section, headless), (
                workload
            )
            assert pane.table.labels == tuple(h for _, h in COLUMNS[section])
            for size in ((80, 24), (160, 48)):
                await pilot.resize_terminal(*size)
                await until(lambda s=size: app.size == s, 5, f"{size}")
                assert len(pane.table.rows) == len(headless), (workload, size)
                assert pane.table.region.width > 0 and pane.query_one("#config-state").region.height >= 1
            state = str(pane.query_one("#config-state").render())
            if not headless:  # an empty section says why, not "0 of 0 rows"
                assert "0 of 0" not in state and state.startswith(f"{section}: no "), state
