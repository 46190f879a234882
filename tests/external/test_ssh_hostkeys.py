"""`--ssh` checks host keys as OpenSSH does, against a real OpenSSH server: every
known_hosts file ssh_config(5) names, @revoked entries (accept-new included, on the one
connection it trusts), ProxyJump hops named as themselves, and an encrypted key named
instead of a bare "permission denied"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from helpers.sshd import ALIAS, SSHD, Sshd, run_sshd
from helpers.wait import wait_for
from meshtui.kube.ssh import SshError, SshState, SshTunnel

pytestmark = pytest.mark.skipif(not Path(SSHD).exists(), reason="openssh-server is not installed")


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with run_sshd(tmp_path_factory.mktemp("sshd-keys")) as server:
        yield server


@pytest.fixture
def home(sshd: Sshd, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sshd]:
    """The test's HOME, no agent; its ssh config and key restored after each test."""
    monkeypatch.setenv("HOME", str(sshd.home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    ssh_dir = sshd.home / ".ssh"
    kept = {p: p.read_bytes() for p in (ssh_dir / "config", ssh_dir / "id_ed25519")}
    sshd.known_hosts.unlink(missing_ok=True)
    try:
        yield sshd
    finally:
        for path, data in kept.items():
            path.write_bytes(data)
        for extra in ssh_dir.glob("*_hosts"):
            extra.unlink()
        sshd.known_hosts.unlink(missing_ok=True)


def host_line(sshd: Sshd, name: str | None = None) -> str:
    name = name or f"[127.0.0.1]:{sshd.port}"
    return f"{name} {sshd.host_key.export_public_key().decode().strip()}\n"


def add_config(sshd: Sshd, text: str) -> None:
    config = sshd.home / ".ssh" / "config"
    config.write_text(config.read_text() + text)


async def connects(destination: str, **kwargs: bool) -> bool:
    tunnel = await SshTunnel(destination, **kwargs).start()
    try:
        return tunnel.status.state == SshState.UP
    finally:
        await tunnel.close()


@pytest.mark.parametrize("option", ["UserKnownHostsFile", "GlobalKnownHostsFile"])
async def test_the_known_hosts_files_of_the_ssh_config_are_read(home, option):
    other = home.home / ".ssh" / "work_hosts"
    other.write_text(host_line(home))
    with pytest.raises(SshError, match="is not in"):
        await connects(ALIAS)  # not in ~/.ssh/known_hosts, and the config names no other file
    add_config(home, f"  {option} {other}\n")
    assert await connects(ALIAS)


async def test_accept_new_writes_to_the_first_user_file(home):
    add_config(home, "  UserKnownHostsFile ~/.ssh/first_hosts ~/.ssh/second_hosts\n")
    assert await connects(ALIAS, accept_new=True)
    assert (home.home / ".ssh" / "first_hosts").read_text() == host_line(home)
    assert not home.known_hosts.exists() and not (home.home / ".ssh" / "second_hosts").exists()
    assert await connects(ALIAS)  # known now, without accept-new


async def test_a_revoked_key_is_refused_even_with_accept_new(home):
    home.known_hosts.write_text("@revoked " + host_line(home))
    with pytest.raises(SshError, match="marked @revoked in known_hosts: refused") as caught:
        await connects(ALIAS, accept_new=True)
    assert "\n" not in str(caught.value)
    assert home.known_hosts.read_text() == "@revoked " + host_line(home)  # nothing added


async def test_a_jump_host_with_an_unknown_key_is_named_as_itself(home):
    ssh_dir = home.home / ".ssh"
    user = (ssh_dir / "config").read_text().split("User ", 1)[1].split()[0]
    add_config(
        home,
        f"Host jumpbox\n  HostName 127.0.0.1\n  Port {home.port}\n  User {user}\n"
        f"  IdentityFile {ssh_dir / 'id_ed25519'}\n"
        f"Host target\n  HostName 127.0.0.1\n  Port {home.port}\n  User {user}\n"
        f"  IdentityFile {ssh_dir / 'id_ed25519'}\n  HostKeyAlias kind-host\n  ProxyJump jumpbox\n",
    )
    home.known_hosts.write_text(host_line(home, "kind-host"))  # the target is known, its hop not
    with pytest.raises(SshError) as caught:
        await connects("target")
    message = str(caught.value)
    assert f"host key for [127.0.0.1]:{home.port} (jump host jumpbox) is not in" in message
    assert "kind-host" not in message
    home.known_hosts.write_text(host_line(home, "kind-host") + host_line(home))
    assert await connects("target")  # through the hop, each checked
    wait_for(lambda: not home.session_pids(), 10, "the target's and the hop's sessions closed")


async def test_an_encrypted_key_is_named_when_login_is_denied(home):
    key_file = home.home / ".ssh" / "id_ed25519"
    # PKCS#8 (asyncssh writes OpenSSH's own encrypted format only with bcrypt installed)
    key = asyncssh.read_private_key(str(key_file))
    key.write_private_key(str(key_file), format_name="pkcs8-pem", passphrase="secret")
    home.trust()
    with pytest.raises(SshError) as caught:
        await connects(ALIAS)
    assert "permission denied; key ~/.ssh/id_ed25519 is encrypted: add it to ssh-agent" in str(caught.value)
