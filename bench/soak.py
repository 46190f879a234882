"""Soak: the app's memory over a long run on a 50,000-stat sidecar refreshed every second.

The real `meshtui` process runs unfiltered for 30 minutes (as bench/app_cpu.py runs it:
a pseudo-terminal, the simulated API server's port-forward, the load loop moving
counters). Its RSS is sampled every minute; the budget is growth under 10% from the
first minute to the end. Run once: `.venv/bin/python bench/soak.py [--minutes 30]`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from app_cpu import run_app
from bigmesh import big_mesh


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--clusters", type=int, default=470)
    opts = p.parse_args()
    with big_mesh(opts.clusters, with_api_server=True) as mesh:
        assert mesh.envoy is not None and mesh.envoy.pid is not None
        base = ["--kubeconfig", str(mesh.kubeconfig), "--interval", "1"]
        run = run_app(base, 60.0, opts.minutes * 60 - 60, mesh.admin_url, mesh.envoy.pid, rss_every=60.0)
    samples = [float(x) for x in run["rss_samples_mb"]]  # type: ignore[attr-defined]
    growth = (samples[-1] - samples[0]) / samples[0]
    result = {
        "clusters": opts.clusters,
        "minutes": opts.minutes,
        "rss_first_minute_mb": samples[0],
        "rss_end_mb": samples[-1],
        "rss_max_mb": max(samples),
        "growth": round(growth, 4),
        "rss_samples_mb": samples,
        "cpu": run["cpu"],
    }
    print(json.dumps(result, indent=1))
    ok = growth < 0.10
    print("within budget (RSS growth < 10%)" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
