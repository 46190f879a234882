"""Cold start: from `meshtui` to its first frame, against a minimal Textual app's first frame
on the same machine, in the same run (so a busy or slow machine moves both).

    .venv/bin/python bench/coldstart.py [RUNS]

Each run spawns the program on a pseudo-terminal of 160x48 and times the spawn until the
terminal has received the frame's last line (the footer's `Quit` key, which both draw).
meshtui runs against the demo mesh (`--kubeconfig`, started once before the runs), so
the cold start includes what a user's start includes. One warm-up start of each writes
the bytecode cache and fills the page cache (a user's second start); then runs alternate
between the two programs, and the medians and their ratio are printed. The budget
(issue 18): ratio <= 1.5.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from meshtui.demo.run import start_mesh

MARKER = b"Quit"
TIMEOUT_S = 30.0

MINIMAL = """
from textual.app import App
from textual.binding import Binding
from textual.widgets import Footer, Static


class Minimal(App):
    BINDINGS = [Binding("q", "quit", "Quit")]

    def compose(self):
        yield Static("a minimal Textual app")
        yield Footer()


Minimal().run()
"""


def first_frame(argv: list[str]) -> float:
    """Seconds from spawn until MARKER reaches the terminal; the program is then stopped."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 48, 160, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    # bytecode is cached, as on any install (the warm-up run writes it); a machine that sets
    # PYTHONDONTWRITEBYTECODE would otherwise compile meshtui's ~80 modules at each start
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.monotonic()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, close_fds=True
    )
    os.close(slave)
    seen = b""
    try:
        while time.monotonic() - started < TIMEOUT_S:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            seen = seen[-64:] + chunk
            if MARKER in seen:
                return time.monotonic() - started
        raise RuntimeError(f"no first frame from {argv[:3]} in {TIMEOUT_S:.0f} s")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        os.close(master)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp, start_mesh(rate=3) as mesh:
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL)
        programs = {
            "minimal Textual app": [sys.executable, str(minimal)],
            "meshtui": [sys.executable, "-m", "meshtui", "--kubeconfig", mesh.kubeconfig],
        }
        for argv in programs.values():  # warm the page cache, as a second start would be
            first_frame(argv)
        times: dict[str, list[float]] = {name: [] for name in programs}
        for _ in range(runs):
            for name, argv in programs.items():
                times[name].append(first_frame(argv))
    for name, xs in times.items():
        print(
            f"{name:<20} first frame median {statistics.median(xs) * 1000:6.0f} ms"
            f"  (min {min(xs) * 1000:.0f}, max {max(xs) * 1000:.0f}, {runs} runs)"
        )
    ratio = statistics.median(times["meshtui"]) / statistics.median(times["minimal Textual app"])
    print(f"ratio {ratio:.2f} (budget 1.5)")


if __name__ == "__main__":
    main()
