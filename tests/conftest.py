"""Shared fixtures: the real captures, a demo mesh of real Envoys, and condition waits."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from meshtui.demo.run import MeshProcess, start_mesh
from meshtui.ui.app import MeshtuiApp

pytest_plugins = ["ci_no_skips"]  # a skip fails the run under CI=true

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    assert FIXTURES.is_dir(), f"the shared captures are expected at {FIXTURES}"
    return FIXTURES


@pytest.fixture(scope="session")
def mesh() -> Iterator[MeshProcess]:
    """The demo mesh (apps, real Envoys, simulated API server, load loop) for the session."""
    # catalog gets the scenario's broken tracing bootstrap: the tracing-health view must flag it
    with start_mesh(rate=8.0, broken_tracing="catalog") as m:
        yield m


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


def wait_for(cond: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def until(cond: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


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


async def select_pod(app: MeshtuiApp, pilot, workload: str, mesh) -> str:
    name = pod_name(mesh, workload)
    key = f"istioinaction/{name}"
    await until(lambda: key in app.pods._shown, 10, f"{name} in the pods table")
    table = app.pods.table
    table.focus()
    table.move_to_key(key)
    await pilot.press("enter")
    await until(lambda: app.pods.selected and app.pods.selected.name == name, 5, "selection")
    return name


@contextlib.contextmanager
def loopback_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on 127.0.0.1 for the block; the URL is yielded. Stops also on failure."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
