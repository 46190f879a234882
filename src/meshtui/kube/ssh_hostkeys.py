"""SSH connections for `--ssh`, with host keys checked as OpenSSH checks them.

OpenSSH's `StrictHostKeyChecking yes` (the default here) and `accept-new`
(`--ssh-accept-new`), with all its files (ssh_config(5)):

- keys come from `UserKnownHostsFile` (default ~/.ssh/known_hosts ~/.ssh/known_hosts2) and
  `GlobalKnownHostsFile` (default /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2), each
  as ~/.ssh/config sets it for the host; `@cert-authority` lines count, `@revoked` lines
  refuse a key whatever else says;
- an unknown host is refused, or with accept-new trusted on the same connection (asyncssh
  then checks the server holds the key) and appended to the first user file;
- a host known with another key is refused, accept-new or not;
- `ProxyJump` hops are opened here, one by one, under the same rules, so a refused hop is
  named as itself and not as the target.

asyncssh alone reads ~/.ssh/known_hosts only, unless the config names files, and checks
jump hosts with its own defaults; an application callback replaces its lookup entirely.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

USER_FILES = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
GLOBAL_FILES = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")
# the keys ssh tries when the config names none (ssh_config(5) IdentityFile)
DEFAULT_IDENTITIES = ("id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk")


class HostKeyRefused(Exception):
    """A host key OpenSSH would refuse; the text names the host and why, in one line."""


def parse_destination(text: str) -> tuple[str, str | None, int | None]:
    """`[user@]host[:port]` (or `ssh://[user@]host[:port]`) → (host, user, port)."""
    text = text.removeprefix("ssh://")
    user, _, rest = text.rpartition("@")
    host, port_text = rest, ""
    if rest.startswith("["):  # [::1]:2222
        host, _, tail = rest[1:].partition("]")
        port_text = tail[1:] if tail.startswith(":") else ""
    elif rest.count(":") == 1:
        host, _, port_text = rest.partition(":")
    if port_text and (not port_text.isdigit() or not 0 < int(port_text) < 65536):
        raise ValueError(f"{text}: the port must be a number from 1 to 65535")
    if not host:
        raise ValueError(f"{text}: no host (use [user@]host[:port])")
    return host, user or None, int(port_text) if port_text else None


def _config(host: str) -> Any:
    """~/.ssh/config as it applies to `host` (asyncssh's reading of it)."""
    return asyncssh.SSHClientConnectionOptions(host=host, config=()).config


def _files(config: Any, key: str, default: tuple[str, ...]) -> list[Path]:
    names = config.get(key) or list(default)
    return [Path(os.path.expanduser(n)) for n in names if n.lower() != "none"]


@dataclass
class HostCheck:
    """One connection's host key check, and what it found."""

    config: Any
    accept_new: bool
    user_files: list[Path] = field(default_factory=list)
    global_files: list[Path] = field(default_factory=list)
    shown: str = ""  # the host as known_hosts names it: host, or [host]:port
    known: bool = False  # a key or CA for this host is on record
    revoked: bool = False  # some key for this host is @revoked
    accepted: asyncssh.SSHKey | None = None  # trusted as new (accept-new)
    presented: asyncssh.SSHKey | None = None  # the key a refused host showed

    def __post_init__(self) -> None:
        self.user_files = _files(self.config, "UserKnownHostsFile", USER_FILES)
        self.global_files = _files(self.config, "GlobalKnownHostsFile", GLOBAL_FILES)

    def match(self, host: str, addr: str, port: int | None) -> Any:
        """asyncssh's known_hosts hook: every file OpenSSH would read."""

        alias = self.config.get("HostKeyAlias")

        def named(name: str) -> str:
            # a HostKeyAlias is recorded without the port (sshconnect.c get_hostfile_hostname_ipaddr)
            return name if port in (None, 22) or name == alias else f"[{name}]:{port}"

        self.shown = named(host)
        readable = [str(p) for p in (*self.user_files, *self.global_files) if p.is_file()]
        known = asyncssh.read_known_hosts(readable) if readable else asyncssh.import_known_hosts("")
        # looked up by exact name as OpenSSH does: asyncssh's own lookup retries a
        # non-standard port without it when nothing is trusted, which drops the
        # `@revoked [host]:port` lines it found (and trusts a key for another port)
        parts = [known.match(name, "", None) for name in {named(host), *([named(addr)] if addr else [])}]
        result = tuple([item for part in parts for item in part[i]] for i in range(7))
        self.known, self.revoked = bool(result[0] or result[1]), bool(result[2])
        return result

    def client(self) -> asyncssh.SSHClient:
        check = self

        class Client(asyncssh.SSHClient):
            def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
                # asyncssh asks only for a key not on record and not @revoked
                if check.accept_new and not check.known:
                    check.accepted = key
                    return True
                check.presented = key  # its fingerprint goes in the refusal, as ssh prints it
                return False

        return Client()

    def remember(self) -> None:
        """Append an accepted key to the first user file, as OpenSSH's accept-new does."""
        if self.accepted is None or not self.user_files:
            return
        path = self.user_files[0]
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write(f"{self.shown} {self.accepted.export_public_key().decode().strip()}\n")

    def refusal(self, exc: asyncssh.HostKeyNotVerifiable, hop: str = "") -> HostKeyRefused:
        where = f"{self.shown or 'the host'}" + (f" (jump host {hop})" if hop else "")
        # the user's file: where they would check, and where accept-new writes
        files = _short(self.user_files[0]) if self.user_files else "known_hosts"
        if "revoked" in str(exc).lower():
            return HostKeyRefused(f"host key for {where} is marked @revoked in known_hosts: refused")
        if self.known:
            return HostKeyRefused(
                f"host key for {where} does not match {files} (changed? possible man-in-the-middle): refused"
            )
        hint = "check it with ssh once" + ("" if self.accept_new else ", or use --ssh-accept-new")
        key = self.presented
        # the remedy before the fingerprint: a narrow line cuts the end
        shown = "" if key is None else f"; its {key.get_algorithm()} key is {key.get_fingerprint('sha256')}"
        return HostKeyRefused(f"host key for {where} is not in {files}: refused ({hint}){shown}")


def _short(path: Path) -> str:
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home) :] if text.startswith(home + os.sep) else text


async def connect(
    host: str,
    port: int | None,
    user: str | None,
    *,
    accept_new: bool,
    on_hop: Callable[[asyncssh.SSHClientConnection], None],
    **options: Any,
) -> asyncssh.SSHClientConnection:
    """The connection to `host`, through its ProxyJump hops (each handed to `on_hop`, to be
    closed with it); raises HostKeyRefused for a key OpenSSH would refuse."""
    config = _config(host)
    jump = str(config.get("ProxyJump") or "")
    tunnel: Any = ()
    if jump and jump.lower() != "none":
        for hop in jump.split(","):
            hop_host, hop_user, hop_port = parse_destination(hop.strip())
            tunnel = await _one(hop_host, hop_port, hop_user, accept_new, tunnel, hop.strip(), **options)
            on_hop(tunnel)
    return await _one(host, port, user, accept_new, tunnel or None, "", config=config, **options)


async def _one(
    host: str,
    port: int | None,
    user: str | None,
    accept_new: bool,
    tunnel: Any,
    hop: str,
    config: Any = None,
    **options: Any,
) -> asyncssh.SSHClientConnection:
    check = HostCheck(config if config is not None else _config(host), accept_new)
    try:
        conn = await asyncssh.connect(
            host,
            port=port if port is not None else (),
            username=user if user is not None else (),
            known_hosts=check.match,
            client_factory=check.client,
            tunnel=tunnel if tunnel else None,
            **options,
        )
    except asyncssh.HostKeyNotVerifiable as exc:
        raise check.refusal(exc, hop) from exc
    check.remember()
    return conn


def encrypted_identity(host: str) -> str | None:
    """The first key ssh would offer for `host` that cannot be read without a passphrase
    (asyncssh skips such keys silently): what to tell a user whose login was denied."""
    config = _config(host)
    names = config.get("IdentityFile") or [f"~/.ssh/{n}" for n in DEFAULT_IDENTITIES]
    for name in names:
        path = Path(os.path.expanduser(name))
        if not path.is_file():
            continue
        try:
            asyncssh.read_private_key(str(path))
        except asyncssh.KeyEncryptionError:
            return _short(path)
        except (asyncssh.KeyImportError, asyncssh.KeyExportError, OSError) as exc:
            # "Passphrase must be specified", or an OpenSSH-format encrypted key that
            # asyncssh cannot even open without bcrypt
            if any(word in str(exc).lower() for word in ("passphrase", "encrypt")):
                return _short(path)
    return None
