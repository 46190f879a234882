"""Fixtures of the tests that run real programs: tmux on its own socket."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.tmux import Tmux


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    conf = tmp_path / "tmux.conf"
    conf.write_text(
        "set -g default-terminal tmux-256color\nset -g set-clipboard on\nset -g status off\n"
        "set -g escape-time 10\n"
    )
    t = Tmux(f"meshtui-test-{uuid.uuid4().hex[:8]}", conf)
    try:
        yield t
    finally:
        subprocess.run(["tmux", "-L", t.socket, "kill-server"], capture_output=True, timeout=10)
