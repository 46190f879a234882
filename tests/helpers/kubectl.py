"""Real kubectl against the demo's API server (CI installs it: .ci/run)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

KUBECTL = shutil.which("kubectl") or str(Path(sys.executable).with_name("kubectl"))
# a test module's `pytestmark`: .ci/run installs kubectl, and fails a run that skipped
needs_kubectl = pytest.mark.skipif(
    not Path(KUBECTL).exists(), reason="kubectl is not installed (.ci/run installs it)"
)


def kubectl(mesh: Any, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`kubectl --kubeconfig <the mesh's> ARGS`: any object with a `kubeconfig` path."""
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(mesh.kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
