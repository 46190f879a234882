"""meshtui in tmux, as a user runs it: on its own socket (-L) with its own config (TERM
tmux-256color inside, `set-clipboard on` so an application's OSC 52 sets tmux's paste
buffer); the server is killed in teardown, also on failure (the `tmux` fixture)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from helpers.wait import wait_for


class Tmux:
    def __init__(self, socket: str, conf: Path) -> None:
        self.socket, self.conf = socket, conf

    def run(self, *args: str) -> str:
        cmd = ["tmux", "-L", self.socket, "-f", str(self.conf), *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=10).stdout

    def screen(self, escapes: bool = False) -> str:
        return self.run("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "meshtui")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "meshtui", *keys)

    def wait(self, text: str, timeout: float, what: str) -> str:
        """Wait for text on screen; on timeout the assertion shows the screen."""
        try:
            return str(wait_for(lambda: text in (s := self.screen()) and s, timeout, what))
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screen:\n{self.screen()}") from None

    def buffer(self) -> str:
        try:
            return self.run("show-buffer")
        except subprocess.CalledProcessError:
            return ""  # no buffer yet


def start(tmux: Tmux, mesh, tmp_path: Path, **env: str) -> None:
    environment = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path), **env}
    command = " ".join(
        [
            shlex.quote(sys.executable),
            "-m",
            "meshtui",
            "--kubeconfig",
            shlex.quote(mesh.kubeconfig),
            "--interval",
            "0.5",
        ]
    )
    exports = [a for k, v in environment.items() for a in ("-e", f"{k}={v}")]
    cwd = ["-c", str(tmp_path)]
    tmux.run("new-session", "-d", "-s", "meshtui", "-x", "80", "-y", "24", *cwd, *exports, command)
