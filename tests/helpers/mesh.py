"""The demo mesh from a test's side: where the captures are, steering its API server, its
pods by workload, and its processes (so a test can prove nothing it started outlives it)."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import httpx

from helpers.wait import until
from meshtui.demo.run import MeshProcess
from meshtui.ui.app import MeshtuiApp

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures"


def api_tls(mesh: MeshProcess) -> ssl.SSLContext:
    """Trust the demo API server's throwaway certificate, as its kubeconfig does."""
    return ssl.create_default_context(cafile=mesh.info["ca_file"])


def sim(mesh: MeshProcess, path: str) -> dict:
    """Steer the simulated API server (drop forwards, restart a workload, switch auth)."""
    r = httpx.post(
        mesh.info["api"] + path,
        headers={"Authorization": f"Bearer {mesh.info['token']}"},
        verify=api_tls(mesh),
    )
    r.raise_for_status()
    return r.json()


def stop_process(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM, and SIGKILL if it has not ended within `grace` seconds: what a test started
    never outlives it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def pod_name(mesh: MeshProcess, workload: str, namespace: str = "istioinaction") -> str:
    """The current pod of a workload (tests may have rollout-restarted it)."""
    r = httpx.get(
        f"{mesh.info['api']}/api/v1/namespaces/{namespace}/pods",
        params={"labelSelector": f"app={workload}"},
        headers={"Authorization": f"Bearer {mesh.info['token']}"},
        verify=api_tls(mesh),
    )
    r.raise_for_status()
    return str(r.json()["items"][0]["metadata"]["name"])


async def select_pod(app: MeshtuiApp, pilot, workload: str, mesh, namespace: str = "istioinaction") -> str:
    name = pod_name(mesh, workload, namespace)
    key = f"{namespace}/{name}"
    await until(lambda: key in app.pods._shown, 10, f"{name} in the pods table")
    table = app.pods.table
    table.focus()
    table.move_to_key(key)
    await pilot.press("enter")
    await until(lambda: app.pods.selected and app.pods.selected.name == name, 5, "selection")
    return name


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def envoys(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "envoy":
                out.add(pid)
        except OSError:
            pass
    return out
