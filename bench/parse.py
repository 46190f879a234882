"""Parse budget: a 50,000-line /stats body of a real Envoy, against the floor.

Floor: `text.splitlines()` plus `str.partition(": ")` over the same body. meshtui's
per-tick work (`StatsTracker.update`: a value for every stat, a rate for every counter
that changed) must cost at most 2x the floor, and `meshtui stats --file BODY --json`,
beyond its start-up, at most 2x a plain script doing the floor plus `json.dumps` of
name/value dicts. Run: `.venv/bin/python bench/parse.py` (about a minute).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bigmesh import big_mesh
from meshtui.envoy.admin import EnvoyAdmin
from meshtui.envoy.tracker import StatsTracker

RUNS = 15


def best(fn, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def floor(body: str) -> None:
    for line in body.splitlines():
        line.partition(": ")


PLAIN_SCRIPT = """
import json, sys
body = open(sys.argv[1]).read()
out = []
for line in body.splitlines():
    name, _, value = line.partition(": ")
    out.append({"name": name, "value": value})
sys.stdout.write(json.dumps(out))
"""


def run_seconds(cmd: list[str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    import asyncio

    with big_mesh() as mesh:
        time.sleep(5.0)  # let every loaded cluster create its lazily made stats: a steady sidecar
        first = mesh.stats_body()
        time.sleep(1.0)  # one refresh interval: the load loop moves counters in between
        second = mesh.stats_body()

        async def kinds():
            admin = EnvoyAdmin(mesh.admin_url, timeout=30)
            try:
                return await admin.stat_kinds()
            finally:
                await admin.aclose()

        stat_kinds = asyncio.run(kinds())
    lines = len(second.splitlines())

    def tracked() -> StatsTracker:
        t = StatsTracker()
        t.kinds = stat_kinds
        t.update(first, 0.0)
        return t

    trackers = [tracked() for _ in range(RUNS)]
    it = iter(trackers)
    snap = tracked().update(second, 1.0)
    t_floor = best(lambda: floor(second))
    t_tick = best(lambda: next(it).update(second, 1.0))
    t_first = best(lambda: StatsTracker().update(second, 0.0), 5)

    with tempfile.TemporaryDirectory() as d:
        body_file, tiny_file, script = Path(d) / "stats.txt", Path(d) / "tiny.txt", Path(d) / "plain.py"
        body_file.write_text(second)
        tiny_file.write_text("server.live: 1\n")
        script.write_text(PLAIN_SCRIPT)
        meshtui = [sys.executable, "-m", "meshtui", "stats", "--json", "--file"]
        plain = [sys.executable, str(script)]
        m_body, m_tiny = run_seconds([*meshtui, str(body_file)]), run_seconds([*meshtui, str(tiny_file)])
        p_body, p_tiny = run_seconds([*plain, str(body_file)]), run_seconds([*plain, str(tiny_file)])

    result = {
        "lines": lines,
        "changed_counters": len(snap.rates),
        "floor_ms": round(t_floor * 1000, 2),
        "tracker_tick_ms": round(t_tick * 1000, 2),
        "tick_vs_floor": round(t_tick / t_floor, 2),
        "tracker_first_body_ms": round(t_first * 1000, 2),
        "headless_json_ms_beyond_startup": round((m_body - m_tiny) * 1000, 1),
        "plain_script_ms_beyond_startup": round((p_body - p_tiny) * 1000, 1),
        "headless_vs_plain": round((m_body - m_tiny) / (p_body - p_tiny), 2),
    }
    print(json.dumps(result, indent=1))
    ok = result["tick_vs_floor"] <= 2 and result["headless_vs_plain"] <= 2
    print("within budget (<= 2x)" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
