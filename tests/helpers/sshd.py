"""A real OpenSSH server on a free loopback port, with its own host key and config, for tests.

Everything lives in a temporary directory: host key, the client's key and known_hosts,
an ssh config with a host alias (as a user's ~/.ssh/config would have). The tests run as
root in CI, so the test config allows root login by key only (never a password).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from helpers.mesh import stop_process

SSHD = "/usr/sbin/sshd"
ALIAS = "kindhost"  # the Host alias the test's ~/.ssh/config defines


@dataclass
class Sshd:
    port: int
    home: Path  # a HOME whose .ssh holds config, the client key and known_hosts
    host_key: asyncssh.SSHKey
    proc: subprocess.Popen[bytes]

    @property
    def known_hosts(self) -> Path:
        return self.home / ".ssh" / "known_hosts"

    def trust(self) -> None:
        """Put the server's key into known_hosts, as a user who checked the fingerprint would."""
        line = f"[127.0.0.1]:{self.port} {self.host_key.export_public_key().decode().strip()}\n"
        self.known_hosts.write_text(line)

    def session_pids(self) -> list[int]:
        """The per-connection sshd processes (children of the listener)."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def cut_connections(self) -> int:
        """Kill every SSH session (the listener stays up), as a dropped link would."""
        pids = self.session_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def run_sshd(tmp: Path) -> Iterator[Sshd]:
    """Start sshd -D on 127.0.0.1:<free port>; stopped (also on failure) when the block ends."""
    tmp.mkdir(parents=True, exist_ok=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    host_key.write_private_key(str(tmp / "host_key"))
    os.chmod(tmp / "host_key", 0o600)
    home = tmp / "home"
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(parents=True, mode=0o700)
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key.write_private_key(str(ssh_dir / "id_ed25519"))
    os.chmod(ssh_dir / "id_ed25519", 0o600)
    (tmp / "authorized_keys").write_bytes(client_key.export_public_key())
    port = free_port()
    (tmp / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1:{port}\n"
        f"HostKey {tmp / 'host_key'}\n"
        f"AuthorizedKeysFile {tmp / 'authorized_keys'}\n"
        f"PidFile {tmp / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UsePAM no\n"
        "StrictModes no\n"
        "AllowTcpForwarding yes\n"
        "Subsystem sftp internal-sftp\n"
        "LogLevel ERROR\n"
    )
    user = os.environ.get("USER") or __import__("pwd").getpwuid(os.getuid()).pw_name
    # the user's ssh config: an alias with the port, user and identity file, as ~/.ssh/config has
    (ssh_dir / "config").write_text(
        f"Host {ALIAS}\n"
        "  HostName 127.0.0.1\n"
        f"  Port {port}\n"
        f"  User {user}\n"
        f"  IdentityFile {ssh_dir / 'id_ed25519'}\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation dir sshd wants when root
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(tmp / "sshd_config")],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "sshd.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(tmp / 'sshd.log').read_text()[-500:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("sshd did not listen within 10 s")
            time.sleep(0.05)
        yield Sshd(port, home, host_key, proc)
    finally:
        with contextlib.suppress(OSError):
            Sshd(port, home, host_key, proc).cut_connections()
        stop_process(proc)
