"""`meshtui demo` as a user runs it: it comes up, and leaves no process behind."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from helpers.mesh import alive, descendants, envoys
from helpers.wait import wait_for


class TuiProcess:
    """`meshtui demo` in a pseudo-terminal, its screen bytes collected."""

    def __init__(self, *args: str, tmpdir: Path | None = None) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "meshtui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "TERM": "xterm-256color", **({"TMPDIR": str(tmpdir)} if tmpdir else {})},
            start_new_session=True,
        )
        os.close(slave)
        self.screen = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.screen.extend(data)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        os.close(self.master)


def test_demo_quits_cleanly_with_q():
    tui = TuiProcess("demo", "--rate", "5")
    try:
        wait_for(lambda: b"with sidecars" in tui.screen, 60, "the pods on screen")
        wait_for(lambda: b"stats from" in tui.screen, 20, "stats on screen")
        started = envoys(descendants(tui.proc.pid))
        assert len(started) == 3
        os.write(tui.master, b"q")
        assert tui.proc.wait(20) == 0
        wait_for(lambda: not any(alive(p) for p in started), 10, "every Envoy stopped")
    finally:
        tui.close()


def test_demo_leaves_no_envoy_and_no_file_when_the_tui_is_killed(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    tui = TuiProcess("demo", "--rate", "5", tmpdir=tmpdir)
    try:
        wait_for(lambda: b"with sidecars" in tui.screen, 60, "the pods on screen")
        entries = list(tmpdir.iterdir())
        assert len(entries) == 1, entries  # one folder: kubeconfig, keys, bootstraps, logs
        folder = entries[0]
        assert (folder / "kubeconfig").exists() and (folder / "try-kubectl.txt").exists()
        assert any(folder.rglob("*.pem")) or any(folder.rglob("*key*"))
        everything = descendants(tui.proc.pid)
        started = envoys(everything)
        assert len(started) == 3
        os.kill(tui.proc.pid, signal.SIGKILL)  # a crash, as hard as it gets
        tui.proc.wait(5)
        wait_for(lambda: not any(alive(p) for p in everything), 15, "the mesh, its Envoys, the watchdog gone")
        wait_for(lambda: not any(tmpdir.iterdir()), 5, "the demo's folder removed")
    finally:
        tui.close()


def test_demo_no_tui_killed_leaves_no_process_and_no_file(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "meshtui", "demo", "--no-tui", "--rate", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "TMPDIR": str(tmpdir)},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.stdout.readline().startswith("export KUBECONFIG="):  # type: ignore[union-attr]
                break
        everything = descendants(proc.pid)
        assert len(envoys(everything)) == 3
        assert any(tmpdir.iterdir())
        proc.kill()
        proc.wait(5)
        wait_for(lambda: not any(alive(p) for p in everything), 15, "its Envoys and the watchdog gone")
        wait_for(lambda: not any(tmpdir.iterdir()), 5, "the demo's folder removed")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_demo_no_tui_prints_the_kubeconfig_and_stops_on_ctrl_c():
    proc = subprocess.Popen(
        [sys.executable, "-m", "meshtui", "demo", "--no-tui", "--rate", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        kubeconfig = None
        deadline = time.monotonic() + 60
        while kubeconfig is None and time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if line.startswith("export KUBECONFIG="):
                kubeconfig = line.strip().split("=", 1)[1]
        assert kubeconfig and Path(kubeconfig).exists()
        started = envoys(descendants(proc.pid))
        assert len(started) == 3
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "meshtui",
                "stats",
                "--kubeconfig",
                kubeconfig,
                "-n",
                "istioinaction",
                "webapp-7685bcb84-hxpqj",
                "--prefix",
                "server.live",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.stdout.strip() == "server.live: 1", r.stderr
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
        assert not any(alive(p) for p in started)
        assert not Path(kubeconfig).exists()  # its temporary directory is removed too
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
