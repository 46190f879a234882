"""Take the README's screenshots of the real app on the demo mesh (real Envoys).

Run: `.venv/bin/python screenshots/take.py` (about 30 s). Writes SVGs next to this file.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from textual.widgets import TabbedContent

from meshtui.demo.examples import CATALOG_RETRIES
from meshtui.demo.run import start_mesh
from meshtui.ui.app import MeshtuiApp, Options

HERE = Path(__file__).parent
CATALOG = "outbound|80||catalog.istioinaction.svc.cluster.local"
RQ_TOTAL = "cluster.outbound|80||catalog.istioinaction.svc.cluster.local.upstream_rq_total"


async def until(cond, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the app did not get there")


async def shoot(kubeconfig: str, size: tuple[int, int], name: str, help_screen: bool = False) -> None:
    app = MeshtuiApp(Options(kubeconfig=kubeconfig, interval=1.0))
    async with app.run_test(size=size) as pilot:
        await until(lambda: any("webapp" in k for k in app.pods._shown))
        key = next(k for k in app.pods._shown if "webapp" in k)
        app.pods.table.move_to_key(key)
        app.pods.table.focus()
        await pilot.press("enter")
        await until(lambda: app.stats.table.rows and "webapp" in app.stats.endpoint_label)
        app.stats.table.focus()
        await pilot.press("slash", *"cluster.outbound|80||catalog", "enter", "o")
        await until(lambda: app.stats.table.snapshot and RQ_TOTAL in app.stats.table.snapshot.rates)
        table = app.stats.table
        table._move_to(table.rows.index(RQ_TOTAL))
        await asyncio.sleep(8)  # a few polls, so the sparkline has a shape
        if help_screen:
            await pilot.press("question_mark")
        await pilot.pause()
        app.save_screenshot(filename=name, path=str(HERE))
        print("wrote", HERE / name)


async def shoot_tab(kubeconfig: str, workload: str, tab: str, name: str, section: str = "") -> None:
    app = MeshtuiApp(Options(kubeconfig=kubeconfig, interval=1.0))
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: any(workload in k for k in app.pods._shown))
        key = next(k for k in app.pods._shown if workload in k)
        app.pods.table.move_to_key(key)
        app.pods.table.focus()
        await pilot.press("enter")
        await until(lambda: workload in app.stats.endpoint_label)
        app.query_one(TabbedContent).active = tab
        if tab == "tab-clusters":
            await until(lambda: CATALOG in app.clusters.table.rows)
            app.clusters.table.move_to_key(CATALOG)
            app.clusters.table.focus()
            await asyncio.sleep(3)  # rates need two polls
        if section:
            await until(lambda: app.config.doc is not None)
            app.config.query_one("Tabs").active = f"section-{section}"
            await asyncio.sleep(4)
            app.config.action_refresh_now()
            await until(lambda: app.config.tracing is not None and app.config.tracing.reports > 0)
            await asyncio.sleep(0.5)
        await pilot.pause()
        app.save_screenshot(filename=name, path=str(HERE))
        print("wrote", HERE / name)


def envoy_pid(mesh_pid: int, pod: str) -> int:
    """The demo pod's Envoy: a child of the mesh process whose command line names the pod."""
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if entry.name.isdigit() and int(stat[1]) == mesh_pid and pod in (entry / "cmdline").read_text():
                return int(entry.name)
        except (OSError, IndexError, ValueError):
            continue
    raise LookupError(f"no Envoy for {pod}")


async def shoot_killed(kubeconfig: str, mesh_pid: int, name: str) -> None:
    """webapp's Envoy just SIGKILLed: its figures stale, the pod 1/2 until the demo's kubelet restarts it."""
    app = MeshtuiApp(Options(kubeconfig=kubeconfig, interval=1.0))
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: any("webapp" in k for k in app.pods._shown))
        key = next(k for k in app.pods._shown if "webapp" in k)
        app.pods.table.move_to_key(key)
        app.pods.table.focus()
        await pilot.press("enter")
        app.stats.table.focus()
        await pilot.press("slash", *"cluster.outbound|80||catalog", "enter")
        await until(lambda: app.stats.table.snapshot and RQ_TOTAL in app.stats.table.snapshot.rates)
        await asyncio.sleep(3)
        os.kill(envoy_pid(mesh_pid, key.split("/", 1)[1]), signal.SIGKILL)
        await until(lambda: app.pods._cells[key][1:3] == ("1/2", "Error"))
        await pilot.press("r")  # poll now, while the pod still shows its dead sidecar
        await until(lambda: app.stats.last and app.stats.last.freshness.stale)
        await pilot.pause()
        app.save_screenshot(filename=name, path=str(HERE))
        print("wrote", HERE / name)


async def shoot_istiod(kubeconfig: str, name: str) -> None:
    """The Control plane place on the demo istiod, a few polls in."""
    app = MeshtuiApp(Options(kubeconfig=kubeconfig, interval=1.0))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("2")
        pane = app.query_one("#istiod")
        await until(lambda: getattr(pane, "last", None) is not None)
        await asyncio.sleep(6)  # a few polls, so the sparklines have a shape
        await pilot.pause()
        app.save_screenshot(filename=name, path=str(HERE))
        print("wrote", HERE / name)


async def shoot_traces(kubeconfig: str, name: str) -> None:
    """The Traces place after a force-trace on the broken-tracing mesh: catalog's hop missing."""
    app = MeshtuiApp(Options(kubeconfig=kubeconfig, interval=1.0))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("colon", *"traces", "enter")
        pane = app.query_one("#traces")
        await until(lambda: getattr(pane, "link", None) is not None)
        await pilot.press("f")
        await until(lambda: getattr(pane, "summary", None) is not None, timeout=60)
        await pilot.press("down")
        await asyncio.sleep(0.3)  # the span detail follows the cursor
        await pilot.pause()
        app.save_screenshot(filename=name, path=str(HERE))
        print("wrote", HERE / name)


async def shoot_replicas(kubeconfig: str, name: str) -> None:
    """The Replicas place on catalog scaled to 3, one replica failing (the demo's fault)."""
    import subprocess

    from kubernetes import client, config

    ns = "istioinaction"
    kubectl = ["kubectl", "--kubeconfig", kubeconfig, "-n", ns]
    subprocess.run([*kubectl, "scale", "deployment/catalog", "--replicas=3"], check=True)
    core = client.CoreV1Api(config.new_client_from_config(kubeconfig))
    app = MeshtuiApp(Options(kubeconfig=kubeconfig, interval=1.0, stats_filter="http.inbound"))
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: sum("catalog" in k for k in app.pods._shown) == 3, timeout=30)
        keys = sorted(k for k in app.pods._shown if "catalog" in k)
        bad = keys[1].split("/", 1)[1]
        core.patch_namespaced_pod(bad, ns, {"metadata": {"annotations": {"demo.meshtui/fault": "abort=60"}}})
        app.pods.table.move_to_key(keys[0])
        app.pods.table.focus()
        await pilot.press("R")
        pane = app.query_one("#replicas")
        await until(lambda: pane.table.update is not None and pane.table.update.outlier == bad, timeout=60)
        await pilot.pause()
        app.save_screenshot(filename=name, path=str(HERE))
        print("wrote", HERE / name)
    core.patch_namespaced_pod(bad, ns, {"metadata": {"annotations": {"demo.meshtui/fault": None}}})
    subprocess.run([*kubectl, "scale", "deployment/catalog", "--replicas=1"], check=True)


VS = CATALOG_RETRIES


async def _webapp_watched(app: MeshtuiApp, pilot: Any) -> Any:
    """webapp selected and its first config version read: the config pane."""
    await until(lambda: any("webapp" in k for k in app.pods._shown), timeout=30)
    key = next(k for k in app.pods._shown if "webapp" in k)
    app.pods.table.move_to_key(key)
    app.pods.table.focus()
    await pilot.press("enter")
    config = app.query_one("#config")
    await until(lambda: config.history is not None and config.history.versions, timeout=30)
    return config


async def shoot_events(kubeconfig: str, name: str) -> None:
    """The Events place after a VirtualService and a rollout; webapp's config history."""
    import subprocess

    kubectl = ["kubectl", "--kubeconfig", kubeconfig]
    app = MeshtuiApp(Options(kubeconfig=kubeconfig, interval=1.0))
    async with app.run_test(size=(160, 48)) as pilot:
        config = await _webapp_watched(app, pilot)
        pane = app.query_one("#events")
        await until(lambda: any(e.kind == "istiod" for e in pane.log_), timeout=30)
        subprocess.run([*kubectl, "apply", "-f", "-"], input=VS.encode(), check=True)
        await until(lambda: len(config.history.versions) >= 2, timeout=30)
        subprocess.run(
            [*kubectl, "-n", "istioinaction", "rollout", "restart", "deployment/webapp"], check=True
        )
        await until(lambda: any("first full sync" in e.summary for e in pane.log_), timeout=30)
        await pilot.press("7")
        await pilot.pause(0.5)
        app.save_screenshot(filename=name, path=str(HERE))
        print("wrote", HERE / name)
    subprocess.run([*kubectl, "-n", "istioinaction", "delete", "virtualservice", "catalog"], check=True)


async def shoot_history(kubeconfig: str, name: str) -> None:
    """webapp's config history: the version a VirtualService made, and what it changed."""
    import subprocess

    kubectl = ["kubectl", "--kubeconfig", kubeconfig]
    app = MeshtuiApp(Options(kubeconfig=kubeconfig, interval=1.0))
    async with app.run_test(size=(160, 48)) as pilot:
        config = await _webapp_watched(app, pilot)
        subprocess.run([*kubectl, "apply", "-f", "-"], input=VS.encode(), check=True)
        await until(lambda: len(config.history.versions) >= 2, timeout=30)
        await pilot.press("colon", *"config", "enter")
        await pilot.press("h")
        await pilot.pause(0.5)
        app.save_screenshot(filename=name, path=str(HERE))
        print("wrote", HERE / name)
    subprocess.run([*kubectl, "-n", "istioinaction", "delete", "virtualservice", "catalog"], check=True)


def main() -> int:
    with start_mesh(rate=4.0, broken_tracing="catalog") as mesh:
        asyncio.run(shoot(mesh.kubeconfig, (160, 48), "main-160x48.svg"))
        asyncio.run(shoot(mesh.kubeconfig, (80, 24), "main-80x24.svg"))
        asyncio.run(shoot(mesh.kubeconfig, (120, 40), "help-120x40.svg", help_screen=True))
        asyncio.run(shoot_tab(mesh.kubeconfig, "webapp", "tab-clusters", "clusters-160x48.svg"))
        asyncio.run(shoot_tab(mesh.kubeconfig, "catalog", "tab-config", "tracing-160x48.svg", "tracing"))
        asyncio.run(shoot_istiod(mesh.kubeconfig, "istiod-160x48.svg"))
        asyncio.run(shoot_traces(mesh.kubeconfig, "traces-160x48.svg"))
        asyncio.run(shoot_replicas(str(mesh.kubeconfig), "replicas-160x48.svg"))
        asyncio.run(shoot_history(str(mesh.kubeconfig), "config-history-160x48.svg"))
        asyncio.run(shoot_events(str(mesh.kubeconfig), "events-160x48.svg"))
        asyncio.run(
            shoot_killed(mesh.kubeconfig, mesh.proc.pid, "sidecar-killed-160x48.svg")
        )  # the last: it kills
    return 0


if __name__ == "__main__":
    sys.exit(main())
