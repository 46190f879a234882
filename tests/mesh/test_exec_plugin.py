"""An exec credential plugin whose token changes mid-run: the forward and the pods watch
get a new token once after a 401, and the plugin never runs on the event loop."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx
import pytest

from helpers.kube_cluster import NS, POD, tls_cluster
from helpers.wait import until
from meshtui.demo.simpod import Container, SimPod
from meshtui.kube import config
from meshtui.kube.pods import PodWatch
from meshtui.kube.portforward import ForwardManager, ForwardState

PLUGIN = """
import json, os, pathlib, sys, time
here = pathlib.Path(__file__).parent
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
seen = {"interactive": info["spec"]["interactive"], "stdin": sys.stdin.isatty()}
(here / "seen").write_text(json.dumps(seen))
time.sleep(float((here / "delay").read_text()))
with open(here / "runs", "a") as f:
    f.write("run\\n")
status = {"token": (here / "token").read_text().strip()}
if (here / "fail").exists():
    raise SystemExit("login expired: run sso-login")
if (here / "expires_in").exists():  # seconds from now, as an identity provider would stamp it
    import datetime
    seconds = float((here / "expires_in").read_text())
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    status["expirationTimestamp"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
doc = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": status}
print(json.dumps(doc))
"""


class Plugin:
    def __init__(self, directory):
        self.dir = directory
        (directory / "plugin.py").write_text(PLUGIN)
        (directory / "delay").write_text("0")
        (directory / "token").write_text("token-a")

    @property
    def runs(self) -> int:
        path = self.dir / "runs"
        return len(path.read_text().splitlines()) if path.exists() else 0

    def user(self) -> dict:
        return {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": sys.executable,
                "args": [str(self.dir / "plugin.py")],
                "interactiveMode": "Never",
            }
        }


@pytest.fixture()
def setup(tmp_path, mesh):
    with tls_cluster(tmp_path, mesh) as cluster:
        cluster.run(cluster.api.rotate_token("token-a", "exec-user"))
        plugin = Plugin(tmp_path)
        yield cluster, plugin, config.load(cluster.kubeconfig(user=plugin.user()))


def rotate(cluster, plugin, delay: float = 0.0) -> None:
    """The identity provider issues token-b and the API server stops accepting token-a."""
    (plugin.dir / "delay").write_text(str(delay))
    (plugin.dir / "token").write_text("token-b")
    cluster.run(cluster.api.rotate_token("token-b", "exec-user", revoke=("token-a",)))
    cluster.run(cluster.api.end_watches())  # as the watch's timeout would: it meets the change


async def test_a_forward_gets_a_new_token_after_a_401_off_the_event_loop(setup):
    cluster, plugin, target = setup
    assert plugin.runs == 1  # at load
    seen: list[ForwardState] = []
    manager = ForwardManager(target, on_change=lambda st: seen.append(st.state))
    gaps: list[float] = []

    async def ticker() -> None:  # how long the event loop goes without running us
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    tick = asyncio.ensure_future(ticker())
    try:
        fwd = await manager.acquire(NS, POD, 15000)
        async with httpx.AsyncClient(trust_env=False) as c:
            assert (await c.get(fwd.url + "/ready")).text.strip() == "LIVE"
        rotate(cluster, plugin, delay=0.6)  # the plugin now takes 0.6 s, as a real one may
        gaps.clear()
        async with httpx.AsyncClient(trust_env=False) as c:  # a new connection: a new stream
            r = await c.get(fwd.url + "/ready", timeout=10)
        assert r.text.strip() == "LIVE"
        assert plugin.runs == 2  # once more, after the 401
        assert fwd.status.state == ForwardState.UP
        assert ForwardState.FAILED not in seen and ForwardState.RECONNECTING not in seen
        assert max(gaps) < 0.4, f"the event loop stalled {max(gaps):.2f}s: the plugin ran on it"
    finally:
        tick.cancel()
        await asyncio.gather(tick, return_exceptions=True)
        await manager.close()


async def test_the_pods_watch_gets_a_new_token_after_a_401_without_an_error(setup):
    cluster, plugin, target = setup
    events = PodWatch(target, NS).events()
    try:
        assert (await asyncio.wait_for(anext(events), 10)).kind == "SYNC"
        rotate(cluster, plugin)  # ends the open watch: the next list meets the 401
        event = await asyncio.wait_for(anext(events), 10)
        assert event.kind == "SYNC", event  # re-listed with token-b, no ERROR in between
        assert plugin.runs == 2
        pod = SimPod("webapp-1-b", NS, "webapp", "10.244.0.11", [Container("app", "w")])
        cluster.run(cluster.api.add_pod(pod))
        event = await asyncio.wait_for(anext(events), 10)
        assert (event.kind, event.pods[0].name) == ("ADDED", "webapp-1-b")
    finally:
        await events.aclose()


async def test_a_token_the_plugin_cannot_renew_fails_the_forward_with_401(setup):
    cluster, plugin, target = setup
    manager = ForwardManager(target)
    try:
        fwd = await manager.acquire(NS, POD, 15000)
        assert await fwd.probe()
        cluster.run(cluster.api.rotate_token("token-c", "exec-user", revoke=("token-a",)))
        assert not await fwd.probe()  # the plugin still says token-a: refreshed once, then failed
        assert (fwd.status.state, plugin.runs) == (ForwardState.FAILED, 2)
        assert fwd.status.reason.startswith("API server rejected the credentials (401)")
    finally:
        await manager.close()


def test_a_token_users_refresh_keeps_a_tunnelled_address(tmp_path):
    """The client's own refresh hook writes the kubeconfig's server back on every request;
    under --ssh the address is a local tunnel port and must stay so."""
    from meshtui.demo.mesh import kubeconfig_yaml

    path = tmp_path / "kc"
    path.write_text(kubeconfig_yaml("https://10.0.0.5:6443", "a-token", b"unused"))
    target = config.load(str(path))
    target.configuration.host = "https://127.0.0.1:40000"  # what SshTunnel.route does
    assert target.auth_header() == "Bearer a-token"
    assert target.configuration.host == "https://127.0.0.1:40000"


async def test_an_expiring_token_is_renewed_before_the_api_server_refuses_it(tmp_path, mesh):
    with tls_cluster(tmp_path, mesh) as cluster:
        cluster.run(cluster.api.rotate_token("token-a", "exec-user"))
        plugin = Plugin(tmp_path)
        (tmp_path / "expires_in").write_text("11")  # within the 10 s skew a second from now
        target = config.load(cluster.kubeconfig(user=plugin.user()))
        (tmp_path / "expires_in").write_text("3600")
        rotate(cluster, plugin)  # the next run gives token-b; token-a is no longer accepted
        manager = ForwardManager(target)
        try:
            fwd = await manager.acquire(NS, POD, 15000)
            # once token-a is past its time, the next stream runs the plugin before asking
            await until(lambda: target.credentials._expired(), 5, "token-a expired")
            assert await fwd.probe(), fwd.status.reason
            assert plugin.runs == 2 and target.auth_header() == "Bearer token-b"
        finally:
            await manager.close()


async def test_a_failing_plugin_is_one_line_on_the_forward(setup):
    cluster, plugin, target = setup
    rotate(cluster, plugin)
    (plugin.dir / "fail").write_text("")
    manager = ForwardManager(target)
    try:
        fwd = await manager.acquire(NS, POD, 15000)
        assert not await fwd.probe()
        assert fwd.status.state == ForwardState.FAILED
        assert fwd.status.reason == (
            "API server rejected the credentials (401); the exec plugin could not renew them: "
            "exec: process returned 1. login expired: run sso-login"
        )
        assert "\n" not in fwd.status.reason
    finally:
        await manager.close()


async def test_a_failing_plugin_is_one_line_on_the_pods_watch(setup):
    cluster, plugin, target = setup
    events = PodWatch(target, NS).events()
    try:
        assert (await asyncio.wait_for(anext(events), 10)).kind == "SYNC"
        (plugin.dir / "fail").write_text("")
        rotate(cluster, plugin)
        event = await asyncio.wait_for(anext(events), 10)
        assert event.kind == "ERROR"
        assert event.message.endswith(
            "could not renew them: exec: process returned 1. login expired: run sso-login"
        )
    finally:
        await events.aclose()


def test_the_plugin_never_gets_the_terminal(tmp_path, mesh, monkeypatch):
    """Even with a terminal on stdout (the TUI's), the plugin is told it is not interactive,
    gets no stdin, and its stderr never reaches the screen."""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    with tls_cluster(tmp_path, mesh) as cluster:
        cluster.run(cluster.api.rotate_token("token-a", "exec-user"))
        plugin = Plugin(tmp_path)
        target = config.load(cluster.kubeconfig(user=plugin.user()))
        assert target.auth_header() == "Bearer token-a"
        assert json.loads((tmp_path / "seen").read_text()) == {"interactive": False, "stdin": False}
