"""CPU budget of the running app on a 50,000-stat sidecar refreshed every second.

The app runs as a real `meshtui` process in a pseudo-terminal (160x48), reaching the
Envoy through the simulated API server's port-forward, like on a cluster. Its CPU
seconds per wall second are read from /proc over 30 s, after a warm-up. Budgets: under
10% of one core with a filter keeping ~500 rows, under 25% with no filter.
Run: `.venv/bin/python bench/app_cpu.py [--seconds 30]` (about two minutes).
"""

from __future__ import annotations

import argparse
import fcntl
import json
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

sys.path.insert(0, str(Path(__file__).parent))
from bigmesh import CATALOG_PREFIX, big_mesh

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def admin_requests(admin_url: str) -> int:
    """Envoy counts the admin requests it served: proof the app kept polling."""
    import httpx

    text = httpx.get(admin_url + "/stats?filter=^http\\.admin\\.downstream_rq_total$").text
    return int(text.split(": ")[1])


def run_app(args: list[str], warmup: float, seconds: float, admin_url: str) -> float:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 48, 160, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "meshtui", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    screen = bytearray()
    seen = threading.Event()
    marker = b"stats from bench-sidecar-0:15000"  # the pane's state line: stats are on screen

    def drain() -> None:  # a terminal that never reads would stall the app
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            screen.extend(data)
            if marker in screen:
                seen.set()
            del screen[:-8192]

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        time.sleep(warmup)
        if proc.poll() is not None:
            raise RuntimeError(f"meshtui exited: {bytes(screen)[-500:]!r}")
        if not seen.wait(10):
            raise RuntimeError(f"no stats on screen: {bytes(screen)[-500:]!r}")
        polls_before = admin_requests(admin_url)
        start_cpu, start = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        used = cpu_seconds(proc.pid) - start_cpu
        wall = time.monotonic() - start
        polls = admin_requests(admin_url) - polls_before - 1  # less our own first read
        if polls < 0.9 * seconds:
            raise RuntimeError(
                f"the app polled {polls} times in {seconds:.0f} s: not refreshing every second"
            )
        return used / wall
    finally:
        os.write(master, b"q")
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        os.close(master)
        reader.join(2)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--warmup", type=float, default=8.0)
    opts = p.parse_args()
    results = {}
    with big_mesh(with_api_server=True) as mesh:
        lines = len(mesh.stats_body().splitlines())
        filtered = sum(1 for line in mesh.stats_body().splitlines() if line.startswith(CATALOG_PREFIX))
        base = ["--kubeconfig", str(mesh.kubeconfig), "--interval", "1"]
        results["stats"] = lines
        results["filtered_rows"] = filtered
        results["cpu_filtered"] = round(
            run_app([*base, "--filter", CATALOG_PREFIX], opts.warmup, opts.seconds, mesh.admin_url), 3
        )
        results["cpu_unfiltered"] = round(run_app(base, opts.warmup, opts.seconds, mesh.admin_url), 3)
    results["seconds"] = opts.seconds
    print(json.dumps(results, indent=1))
    ok = results["cpu_filtered"] < 0.10 and results["cpu_unfiltered"] < 0.25
    print("within budget (<10% filtered, <25% unfiltered)" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
