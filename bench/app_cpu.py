"""CPU and memory of the running app on a big sidecar refreshed every second, and what
its polling costs the Envoy it watches.

The app runs as a real `meshtui` process in a pseudo-terminal (160x48), reaching the
Envoy through the simulated API server's port-forward, like on a cluster. Its CPU
seconds per wall second are read from /proc over 30 s, after a warm-up, and its RSS at
the end. The Envoy's CPU is read over the same windows and over one without the app
(the load loop alone): the difference is what meshtui's polling costs it.

Budgets at 470 clusters (~50,000 stats): under 10% of one core with a filter keeping
~500 rows, under 25% with no filter. At `--clusters 2000` (~214,000 stats): under 15%
with no filter, RSS under 400 MB (after `--seconds 300`). Either size: the Envoy's extra
CPU under 3% of a core, filtered and not.
Run: `.venv/bin/python bench/app_cpu.py [--clusters 2000] [--seconds 30]` (two minutes).
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


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def envoy_alone(pid: int, seconds: float) -> float:
    """The watched Envoy's CPU (cores) with nobody polling it: the load loop's share."""
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def envoy_with_full_poll(pid: int, admin_url: str, seconds: float) -> float:
    """The Envoy's CPU (cores) while a full `/stats` is read every second, as meshtui did
    before it asked for the used stats only: the yardstick the issue's 12.9% came from."""
    import httpx

    start_cpu, start = cpu_seconds(pid), time.monotonic()
    with httpx.Client(timeout=30, trust_env=False) as c:
        while (left := start + seconds - time.monotonic()) > 0:
            tick = time.monotonic()
            c.get(admin_url + "/stats").raise_for_status()
            time.sleep(max(0.0, min(left, 1.0 - (time.monotonic() - tick))))
    return (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def admin_requests(admin_url: str) -> int:
    """Envoy counts the admin requests it served: proof the app kept polling."""
    import httpx

    text = httpx.get(admin_url + "/stats?filter=^http\\.admin\\.downstream_rq_total$").text
    return int(text.split(": ")[1])


def run_app(
    args: list[str],
    warmup: float,
    seconds: float,
    admin_url: str,
    envoy_pid: int,
    rss_every: float = 0.0,
) -> dict[str, object]:
    """The app's CPU (cores), the Envoy's CPU meanwhile, the app's RSS at the end (MB),
    and with `rss_every` its RSS every so many seconds (the soak)."""
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
        envoy_start = cpu_seconds(envoy_pid)
        rss = [round(rss_mb(proc.pid), 1)]
        while (left := start + seconds - time.monotonic()) > 0:
            time.sleep(min(left, rss_every) if rss_every else left)
            if rss_every:
                rss.append(round(rss_mb(proc.pid), 1))
        used = cpu_seconds(proc.pid) - start_cpu
        envoy_used = cpu_seconds(envoy_pid) - envoy_start
        wall = time.monotonic() - start
        rss_end = rss_mb(proc.pid)
        polls = admin_requests(admin_url) - polls_before - 1  # less our own first read
        if polls < 0.9 * seconds:
            raise RuntimeError(
                f"the app polled {polls} times in {seconds:.0f} s: not refreshing every second"
            )
        result: dict[str, object] = {
            "cpu": round(used / wall, 4),
            "envoy_cpu": round(envoy_used / wall, 4),
            "rss_mb": round(rss_end, 1),
            "admin_requests_per_s": round(polls / wall, 2),
        }
        if rss_every:
            result["rss_samples_mb"] = rss
        return result
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
    p.add_argument("--clusters", type=int, default=470, help="470: ~50,000 stats; 2000: ~214,000")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--warmup", type=float, default=8.0)
    opts = p.parse_args()
    results: dict[str, object] = {"clusters": opts.clusters, "seconds": opts.seconds}
    with big_mesh(opts.clusters, with_api_server=True) as mesh:
        assert mesh.envoy is not None and mesh.envoy.pid is not None
        pid = mesh.envoy.pid
        body = mesh.stats_body()
        results["stats"] = len(body.splitlines())
        results["filtered_rows"] = sum(1 for line in body.splitlines() if line.startswith(CATALOG_PREFIX))
        del body
        base = ["--kubeconfig", str(mesh.kubeconfig), "--interval", "1"]
        alone = envoy_alone(pid, opts.seconds)
        results["envoy_cpu_alone"] = round(alone, 4)
        full = envoy_with_full_poll(pid, mesh.admin_url, opts.seconds)
        results["envoy_cost_full_body_each_second"] = round(full - alone, 4)  # the old way
        for label, args in (("filtered", ["--filter", CATALOG_PREFIX]), ("unfiltered", [])):
            run = run_app([*base, *args], opts.warmup, opts.seconds, mesh.admin_url, pid)
            results[f"cpu_{label}"] = run["cpu"]
            results[f"envoy_cost_{label}"] = round(float(run["envoy_cpu"]) - alone, 4)  # type: ignore[arg-type]
            results[f"rss_mb_{label}"] = run["rss_mb"]
            results[f"admin_requests_per_s_{label}"] = run["admin_requests_per_s"]
    print(json.dumps(results, indent=1))
    big = opts.clusters >= 2000
    budgets = {
        "cpu_filtered": 0.10,
        "cpu_unfiltered": 0.15 if big else 0.25,
        "envoy_cost_filtered": 0.03,
        "envoy_cost_unfiltered": 0.03,
    }
    if big and opts.seconds >= 300:
        budgets["rss_mb_unfiltered"] = 400
    over = [k for k, limit in budgets.items() if float(results[k]) >= limit]  # type: ignore[arg-type]
    print(
        "within budget: " + ", ".join(f"{k} < {v}" for k, v in budgets.items())
        if not over
        else f"OVER BUDGET: {over}"
    )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
