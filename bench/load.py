"""Load generator budget: 500 requests/s for 60 s against the demo's gateway, at under 35% of
one core (the generator's own CPU), its achieved rate within 2% of the asked rate and the
P99 of its scheduling lag (how late requests left against the clock) under 5 ms.

The demo runs in its own processes (real Envoys, apps); `meshtui load` runs as a user runs
it, straight at the gateway's listener; its CPU is read from /proc for that process alone.
Run: `.venv/bin/python bench/load.py [--rate 500] [--seconds 60]` (about 90 s).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import httpx

from meshtui.demo.run import start_mesh

HOST = "webapp.istioinaction.io"
CPU_BUDGET, RATE_ERROR, LAG_P99_MS = 0.35, 0.02, 5.0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks (100/s)


def gateway_url(admin: str) -> str:
    for status in httpx.get(f"{admin}/listeners", params={"format": "json"}).json()["listener_statuses"]:
        if status["name"] == "0.0.0.0_8080":
            return f"http://127.0.0.1:{status['local_address']['socket_address']['port_value']}/api/catalog"
    raise SystemExit("the demo gateway has no 0.0.0.0_8080 listener")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    with start_mesh(rate=1) as mesh:
        url = gateway_url(mesh.info["admin"]["istio-ingressgateway"])
        argv = [sys.executable, "-m", "meshtui", "load", url, "--host", HOST, "--rate", str(args.rate)]
        argv += ["--duration", str(args.seconds), "--json", "--quiet", "--max-in-flight", "1000"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)  # past the imports: the budget is the sending's
        start_cpu, start = cpu_seconds(proc.pid), time.monotonic()
        last_cpu = start_cpu
        while proc.poll() is None:
            try:
                last_cpu = cpu_seconds(proc.pid)
            except OSError:
                break
            end = time.monotonic()
            time.sleep(0.5)
        out, err = proc.communicate(timeout=60)
        if proc.returncode != 0:
            raise SystemExit(f"meshtui load failed: {err.strip()}")
    got = json.loads(out)
    cpu = (last_cpu - start_cpu) / (end - start)
    rate_error = abs(got["rate_achieved"] - args.rate) / args.rate
    lag = got["scheduling_lag_p99_ms"] or 0.0
    result = {
        "rate_asked": args.rate,
        "rate_achieved": got["rate_achieved"],
        "sent": got["sent"],
        "completed": got["completed"],
        "errors": got["errors"],
        "classes": got["classes"],
        "latency_ms": got["latency_ms"],
        "scheduling_lag_p99_ms": lag,
        "cpu_of_one_core": round(cpu, 3),
    }
    print(json.dumps(result, indent=1))
    ok = cpu < CPU_BUDGET and rate_error <= RATE_ERROR and lag < LAG_P99_MS
    budget = f"< {CPU_BUDGET:.0%} of a core, rate within {RATE_ERROR:.0%}, lag P99 < {LAG_P99_MS:g} ms"
    print(f"within budget ({budget})" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
