"""Run the demo mesh in a child process that dies with us, and wait until it answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshtui.cleanup import FolderGuard, guarded_folder
from meshtui.demo.envoy_proc import _die_with_parent


class DemoError(RuntimeError):
    pass


@dataclass
class MeshProcess:
    proc: subprocess.Popen[bytes]
    info: dict[str, Any]
    workdir: Path  # the mesh's folder: kubeconfig, keys, bootstraps, logs
    guard: FolderGuard  # removes it even if we are killed

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
        self.guard.close()

    def __enter__(self) -> MeshProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_mesh(
    rate: float = 3.0,
    broken_tracing: str | None = None,
    timeout: float = 60.0,
    sampling: float = 10.0,
    env: dict[str, str] | None = None,
) -> MeshProcess:
    """The demo mesh in a child process; `env` adds to (or overrides) its environment."""
    # one folder for everything the mesh writes, watched by a process that outlives a SIGKILL
    workdir, guard = guarded_folder("meshtui-demo-")
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
        "--workdir",
        str(workdir),
    ]
    if broken_tracing:
        cmd += ["--broken-tracing", broken_tracing]
    proc = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        pass_fds=(guard.fd,),  # the folder stays until the mesh is gone too
    )
    log.close()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if ready.exists():
                return MeshProcess(proc, json.loads(ready.read_text()), workdir, guard)
            if proc.poll() is not None:
                tail = (workdir / "mesh.log").read_text(errors="replace").strip().splitlines()[-1:]
                raise DemoError(f"the demo mesh exited at start: {' '.join(tail)}")
            time.sleep(0.05)
        raise DemoError(f"the demo mesh did not come up within {timeout:.0f}s")
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        guard.close()
        raise
