"""The `meshtui` command as a user runs it: a subprocess, its exit code and output."""

from __future__ import annotations

import subprocess
import sys


def meshtui(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meshtui", *args], capture_output=True, text=True, timeout=timeout
    )
