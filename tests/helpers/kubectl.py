"""Real kubectl against the demo's API server (CI installs it: .ci/run)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

KUBECTL = shutil.which("kubectl") or str(Path(sys.executable).with_name("kubectl"))


def kubectl(mesh: Any, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`kubectl --kubeconfig <the mesh's> ARGS`: any object with a `kubeconfig` path."""
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(mesh.kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
