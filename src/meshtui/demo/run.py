"""Run the demo mesh in a child process that dies with us, and wait until it answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshtui.demo.envoy_proc import _die_with_parent


class DemoError(RuntimeError):
    pass


@dataclass
class MeshProcess:
    proc: subprocess.Popen[bytes]
    info: dict[str, Any]
    workdir: Path

    @property
    def kubeconfig(self) -> str:
        return str(self.info["kubeconfig"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for f in self.workdir.glob("*"):
            f.unlink(missing_ok=True)
        self.workdir.rmdir()

    def __enter__(self) -> MeshProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_mesh(
    rate: float = 3.0, broken_tracing: str | None = None, timeout: float = 60.0, sampling: float = 10.0
) -> MeshProcess:
    workdir = Path(tempfile.mkdtemp(prefix="meshtui-run-"))
    ready = workdir / "ready.json"
    log = open(workdir / "mesh.log", "wb")  # noqa: SIM115 - handed to the child
    cmd = [
        sys.executable,
        "-m",
        "meshtui.demo.mesh",
        "--ready-file",
        str(ready),
        "--rate",
        str(rate),
        "--sampling",
        str(sampling),
    ]
    if broken_tracing:
        cmd += ["--broken-tracing", broken_tracing]
    proc = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready.exists():
            return MeshProcess(proc, json.loads(ready.read_text()), workdir)
        if proc.poll() is not None:
            tail = (workdir / "mesh.log").read_text(errors="replace").strip().splitlines()[-1:]
            raise DemoError(f"the demo mesh exited at start: {' '.join(tail)}")
        time.sleep(0.05)
    proc.kill()
    raise DemoError(f"the demo mesh did not come up within {timeout:.0f}s")
