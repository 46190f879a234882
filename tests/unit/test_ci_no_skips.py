"""A skipped test fails the run under CI=true, and only there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SKIPPING = """
import pytest

def test_needs_a_real_thing():
    pytest.skip("tmux is not installed")

def test_runs():
    assert True
"""


def run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_x.py").write_text(SKIPPING)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(Path(__file__).parents[1] / "helpers")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "ci_no_skips", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )


def test_a_skip_fails_under_ci(tmp_path):
    r = run(tmp_path, "true")
    assert r.returncode == 1, r.stdout
    assert "1 failed, 1 passed" in r.stdout
    assert (
        "skipped under CI=true, where every real component must run: Skipped: tmux is not installed"
        in r.stdout
    )


def test_a_skip_is_a_skip_elsewhere(tmp_path):
    r = run(tmp_path, None)
    assert r.returncode == 0 and "1 passed, 1 skipped" in r.stdout, r.stdout
