"""The kubeconfig of the `--ssh` host, read over SFTP, and the target routed through the tunnel.

kind writes its kubeconfig with the certificates inline; one that names files instead
(`certificate-authority: /etc/kubernetes/pki/ca.crt`) has them read over SFTP too and
inlined as `-data`, since those paths mean nothing on this machine. The copy is written
0600 into the tunnel's private directory, which is removed when the tunnel closes.
"""

from __future__ import annotations

import asyncio
import base64
import os
import posixpath
from pathlib import Path
from typing import Any

import yaml

from meshtui.kube.config import KubeTarget
from meshtui.kube.ssh import SshError, SshTunnel

_FILE_FIELDS = (
    ("clusters", "cluster", "certificate-authority"),
    ("users", "user", "client-certificate"),
    ("users", "user", "client-key"),
)


async def fetch(tunnel: SshTunnel, path: str | None) -> str:
    """Copy the remote kubeconfig (~/.kube/config there by default); the local path."""
    remote = path or "~/.kube/config"
    doc = _load_yaml(await tunnel.read_file(remote), remote, tunnel.destination)
    base = posixpath.dirname(remote[2:] if remote.startswith("~/") else remote)
    for section, inner, field in _FILE_FIELDS:
        for entry in doc.get(section) or []:
            body = (entry or {}).get(inner) or {}
            ref = body.get(field)
            if isinstance(ref, str) and ref:
                # relative paths are relative to the kubeconfig's directory, as kubectl reads them
                data = await tunnel.read_file(posixpath.join(base, ref))
                body[f"{field}-data"] = base64.b64encode(data).decode()
                del body[field]
    local = tunnel.private_dir() / "kubeconfig"
    fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds credentials
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(doc, f)
    return str(local)


async def open_target(tunnel: SshTunnel, kubeconfig: str | None, context: str | None) -> KubeTarget:
    """The kubeconfig target over `tunnel`: the local KUBECONFIG files when it names any, else
    the remote host's (~/.kube/config there, or `kubeconfig` as a path on the remote host)."""
    from meshtui.kube import config

    listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    local: str | None = None  # None: KUBECONFIG's files, merged as kubectl merges them
    if not any(Path(p).is_file() for p in listed):
        local = await fetch(tunnel, kubeconfig)
    target = await asyncio.to_thread(config.load, local, context)
    return await tunnel.route(target)


def _load_yaml(data: bytes, path: str, destination: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise SshError(f"kubeconfig {path} on {destination}{line}: not valid YAML") from exc
    if not isinstance(doc, dict):
        raise SshError(f"kubeconfig {path} on {destination}: not a kubeconfig")
    return doc
