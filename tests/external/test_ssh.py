"""`meshtui --ssh`: the demo mesh's loopback API server reached only through a real OpenSSH server."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest
import yaml

from helpers.mesh import pod_name, select_pod
from helpers.sshd import ALIAS, SSHD, Sshd, run_sshd
from helpers.wait import until
from meshtui.kube.ssh import SshError, SshState, SshTunnel, parse_destination
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.export import screen_lines

pytestmark = pytest.mark.skipif(not Path(SSHD).exists(), reason="openssh-server is not installed")


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with run_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def home(sshd: Sshd, monkeypatch: pytest.MonkeyPatch) -> Sshd:
    """HOME is the test's: its ~/.ssh/config alias, key and known_hosts; no agent, no KUBECONFIG."""
    monkeypatch.setenv("HOME", str(sshd.home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    sshd.known_hosts.unlink(missing_ok=True)
    return sshd


def test_destination_parsing():
    assert parse_destination("kindhost") == ("kindhost", None, None)
    assert parse_destination("ops@10.0.0.5:2222") == ("10.0.0.5", "ops", 2222)
    assert parse_destination("[::1]:2200") == ("::1", None, 2200)
    with pytest.raises(SshError, match="port"):
        parse_destination("host:http")


async def test_unknown_host_key_is_refused(home):
    with pytest.raises(SshError) as caught:
        await SshTunnel(ALIAS).start()
    message = str(caught.value)
    assert "not in ~/.ssh/known_hosts: refused" in message and "--ssh-accept-new" in message
    assert f"[127.0.0.1]:{home.port}" in message and "\n" not in message
    # the key to check, as ssh shows it: its type and SHA256 fingerprint
    assert f"its ssh-ed25519 key is {home.host_key.get_fingerprint('sha256')}" in message, message
    assert not home.known_hosts.exists()  # nothing trusted behind the user's back


async def test_accept_new_remembers_the_key_and_a_changed_key_is_refused(home):
    tunnel = await SshTunnel(ALIAS, accept_new=True).start()
    try:
        assert tunnel.status.state == SshState.UP
    finally:
        await tunnel.close()
    line = home.known_hosts.read_text()
    assert line.startswith(f"[127.0.0.1]:{home.port} ssh-ed25519 ")
    # now known: a plain connection (no accept-new) is accepted
    tunnel = await SshTunnel(f"127.0.0.1:{home.port}").start()
    await tunnel.close()
    # a different key on record for that host: refused even with accept-new
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    home.known_hosts.write_text(f"[127.0.0.1]:{home.port} {other}\n")
    with pytest.raises(SshError, match=r"does not match ~/\.ssh/known_hosts"):
        await SshTunnel(ALIAS, accept_new=True).start()


def test_headless_command_refuses_an_unknown_host_in_one_line(home, mesh):
    env = {**os.environ, "HOME": str(home.home)}
    env.pop("KUBECONFIG", None)
    run = subprocess.run(
        [sys.executable, "-m", "meshtui", "stats", "x", "-n", "istioinaction", "--ssh", ALIAS],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "host key" in run.stderr and "refused" in run.stderr


def test_headless_stats_through_the_tunnel(home, mesh):
    home.trust()
    env = {**os.environ, "HOME": str(home.home)}
    env.pop("KUBECONFIG", None)
    pod = pod_name(mesh, "catalog")
    cmd = [sys.executable, "-m", "meshtui", "stats", pod, "-n", "istioinaction", "--prefix", "server.live"]
    cmd += ["--ssh", ALIAS, "--kubeconfig", mesh.kubeconfig]  # a path on the SSH host
    run = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "server.live" in run.stdout


async def test_app_through_the_tunnel_and_a_cut_connection_heals(home, mesh):
    home.trust()
    # --kubeconfig is a path on the SSH host: read over SFTP, not from the local disk
    app = MeshtuiApp(Options(ssh=ALIAS, kubeconfig=mesh.kubeconfig, interval=0.3))
    async with app.run_test(size=(160, 48)) as pilot:
        name = await select_pod(app, pilot, "webapp", mesh)
        await until(lambda: app.stats.last and app.stats.last.snapshot, 10, "stats through the tunnel")
        # the API server was reached through the tunnel's local port, not its own address
        api = urllib.parse.urlsplit(mesh.info["api"])
        server = urllib.parse.urlsplit(app.manager.target.server)
        assert server.hostname == "127.0.0.1" and server.port != api.port
        assert app.manager.target.tls_server_name() == api.hostname  # verified end to end
        assert f"via ssh {ALIAS}" in str(app.status.render_text())
        await until(lambda: app.stats.table.snapshot and app.stats.table.snapshot.rates, 10, "live rates")

        seen: list[str] = []  # every state the status line was told about
        shown = app.tunnel.on_change
        app.tunnel.on_change = lambda status: (seen.append(status.line), shown(status))
        problems: list[str] = []  # every problem the status line showed
        status_set = app.status.set
        app.status.set = lambda **f: (problems.append(str(f.get("problem"))), status_set(**f))[1]  # type: ignore[method-assign]
        assert home.cut_connections() >= 1
        cut = time.monotonic()
        before = app.stats.last
        await until(lambda: app.tunnel.status.connects == 2, 5, "the SSH connection re-opened")
        await until(
            lambda: app.stats.last is not before and app.stats.last.snapshot and not app.stats.last.error,
            5 - (time.monotonic() - cut),
            "stats again after the cut",
        )
        assert app.tunnel.status.state == SshState.UP
        assert seen[0] == f"SSH connection to {ALIAS} lost, reconnecting" and seen[-1] == f"ssh {ALIAS} up"
        # never meshtui's own relay address: the user's server, through the SSH connection
        assert app.manager.target.shown == f"{mesh.info['api']} (through ssh {ALIAS})"
        relay = f"127.0.0.1:{server.port}"
        assert not [p for p in problems if relay in p], problems
        await until(lambda: not app.status.problem, 5, "the status line clear again")
        assert app.stats.endpoint_label == f"{name}:15000"
        assert "Traceback" not in str(app.screen)
        # the mesh-wide places get the same routed target: the demo istiod through the tunnel
        await pilot.press("2")
        istiod = app.place_widget("istiod")
        await until(
            lambda: istiod.last is not None and istiod.last.total is not None, 15, "istiod via the tunnel"
        )
        assert not istiod.last.error and istiod.last.proxies  # read, not an error line
        await app.action_quit()
    assert app.tunnel.status.state == SshState.CLOSED


async def test_remote_kubeconfig_with_file_references_is_inlined_and_private(home, mesh, tmp_path):
    from meshtui.kube import remote_kubeconfig

    home.trust()
    remote = tmp_path / "remote-kube"
    remote.mkdir()
    (remote / "ca.crt").write_bytes(Path(mesh.info["ca_file"]).read_bytes())
    doc = yaml.safe_load(Path(mesh.kubeconfig).read_text())
    for cluster in doc["clusters"]:
        cluster["cluster"].pop("certificate-authority-data", None)
        cluster["cluster"]["certificate-authority"] = "ca.crt"  # relative to the kubeconfig's dir
    (remote / "config").write_text(yaml.safe_dump(doc))
    tunnel = await SshTunnel(ALIAS).start()
    try:
        local = Path(await remote_kubeconfig.fetch(tunnel, str(remote / "config")))
        assert local.stat().st_mode & 0o777 == 0o600
        copied = yaml.safe_load(local.read_text())["clusters"][0]["cluster"]
        assert "certificate-authority" not in copied and copied["certificate-authority-data"]
        target = await remote_kubeconfig.open_target(tunnel, str(remote / "config"), None)
        pods = await asyncio.to_thread(lambda: target.core().list_pod_for_all_namespaces(_request_timeout=10))
        assert any(p.metadata.name.startswith("webapp-") for p in pods.items)  # TLS verified via the CA file
        with pytest.raises(SshError, match="no /nonexistent/config on"):
            await remote_kubeconfig.fetch(tunnel, "/nonexistent/config")
    finally:
        await tunnel.close()
    assert not local.exists()  # the private copy goes with the tunnel


async def test_app_says_an_unknown_host_key_in_one_line_and_keeps_running(home):
    app = MeshtuiApp(Options(ssh=ALIAS))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.status.problem, 10, "problem line")
        problem = app.status.problem
        assert "not in ~/.ssh/known_hosts: refused" in problem and "\n" not in problem
        state = str(app.pods.query_one("#pods-state").render())
        assert "--ssh-accept-new" in state
        # at 80x24 the remedy and the key to check are on screen (the line was cut before them)
        await pilot.pause()
        screen = " ".join(line.strip() for line in screen_lines(app))
        assert "--ssh-accept-new" in screen and "its ssh-ed25519 key is SHA256:" in screen, screen
        await pilot.press("question_mark")  # the rest of the app still answers
        await until(lambda: type(app.screen).__name__ == "HelpScreen", 3, "help")
    assert not home.known_hosts.exists()


async def test_ssh_down_is_said_as_such_and_the_views_go_stale_at_once(mesh, tmp_path, monkeypatch):
    """The SSH listener killed under a live view: the line was `reconnecting (stream
    dropped by the API server)`, then `API server at https://127.0.0.1:<meshtui's relay>
    unreachable`, and Stats looked live for ~5 s. Now the SSH connection is named, the
    views go stale from the first failed poll, and the relay's address never shows."""
    with run_sshd(tmp_path / "own") as own:
        monkeypatch.setenv("HOME", str(own.home))
        monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
        monkeypatch.delenv("KUBECONFIG", raising=False)
        own.trust()
        interval = 0.3
        app = MeshtuiApp(Options(ssh=ALIAS, kubeconfig=mesh.kubeconfig, interval=interval))
        async with app.run_test(size=(160, 48)) as pilot:
            await select_pod(app, pilot, "webapp", mesh)
            await until(lambda: app.stats.table.snapshot and app.stats.table.snapshot.rates, 15, "live rates")
            relay = f"127.0.0.1:{urllib.parse.urlsplit(app.manager.target.server).port}"
            sessions = own.session_pids()
            own.proc.kill()  # the listener: no reconnect will succeed
            own.proc.wait(5)
            for pid in sessions:  # then the live connection (its process outlives the listener)
                os.kill(pid, signal.SIGKILL)
            cut = time.monotonic()
            await until(lambda: app.stats.last and app.stats.last.freshness.stale, 5, "stats stale")
            assert time.monotonic() - cut < 3 * interval + 1.5, time.monotonic() - cut
            said = (f"SSH connection to {ALIAS} lost, reconnecting", f"ssh {ALIAS} reconnecting (")
            await until(lambda: (app.status.problem or "").startswith(said), 5, "the SSH line")
            # the API errors behind it (the watch's, through the relay) do not replace it
            await until(
                lambda: "unreachable" in str(app.pods.query_one("#pods-state").render()),
                20,  # the watch's read times out first: over 10 s once on a loaded CI run
                "the watch's error",
            )
            assert app.status.problem is not None and "ssh" in app.status.problem.lower()
            # the pods list says its watch fails, not a count that reads as fresh (`5 of 5 pods`)
            pods_state = app.pods.query_one("#pods-state").text
            assert " of " not in pods_state.split(":")[0], pods_state
            # the user's server, and the cause: not the relay's SSLError
            assert f"{mesh.info['api']} (through ssh {ALIAS}) unreachable: the SSH connection" in pods_state
            screen = " ".join(screen_lines(app))
            assert relay not in screen and relay not in str(app.status.render_text()), screen
