"""The Mesh place at 500 services x 20 edges each (10,500 rows), refreshed every 5 s.

A stand-in Prometheus in its own process answers the place's twelve queries
(prometheus/queries.py) over the real HTTP API shape (`/api/v1/query`, vectors with the
labels the queries group by), with values that change every answer: the bench measures
the app, not Prometheus, whose answers the tests check against a real one. The app runs
in-process (Textual's headless driver, 160x48) with `--prometheus URL`; its CPU is read
with `time.process_time` over `--seconds` while the place is shown, then the place's keys
are timed from the key event to the repainted screen (bench/timing.py).
Budgets: the app under 5% of one core; keys under 50 ms.
Run: `.venv/bin/python bench/mesh.py [--seconds 60]` (about 90 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from textual.keys import _character_to_key

from meshtui.ui.app import MeshtuiApp, Options
from timing import cpu_steadiness, timed_key

SERVICES, EDGES_EACH = 500, 20

SERVER = textwrap.dedent(
    f"""
    import json, random, sys
    from aiohttp import web
    services = [f"svc-{{i:03d}}.ns-{{i % 25:02d}}.svc.cluster.local" for i in range({SERVICES})]
    def vector(query):
        edge = "source_workload" in query
        rows = []
        for i, svc in enumerate(services):
            for j in range({EDGES_EACH} if edge else 1):
                labels = {{"destination_service": svc}}
                if edge:
                    labels["source_workload"] = f"wl-{{(i + j) % {SERVICES}:03d}}"
                    labels["source_workload_namespace"] = f"ns-{{j:02d}}"
                if "histogram_quantile" in query:
                    value = random.uniform(1, 300)
                elif "response_code" in query:
                    value = random.choice((0.0, 0.0, random.uniform(0, 20)))
                else:
                    value = random.uniform(0.1, 50)
                rows.append({{"metric": labels, "value": [0, repr(value)]}})
        return rows
    async def query(request):
        q = request.query.get("query", "")
        body = {{"status": "success", "data": {{"resultType": "vector", "result": vector(q)}}}}
        return web.Response(text=json.dumps(body), content_type="application/json")
    app = web.Application()
    app.router.add_get("/api/v1/query", query)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
    """
)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def measure(url: str, seconds: float) -> dict[str, object]:
    app = MeshtuiApp(Options(admin="http://127.0.0.1:9", prometheus=url))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("colon", *"mesh", "enter")
        pane = app.query_one("#mesh")
        table = pane.table
        for _ in range(1200):
            if len(table.rows) >= SERVICES * (EDGES_EACH + 1):
                break
            await asyncio.sleep(0.05)
        rows = len(table.rows)
        cpu0, t0 = time.process_time(), time.monotonic()
        while time.monotonic() - t0 < seconds:
            await asyncio.sleep(0.5)
        cpu = (time.process_time() - cpu0) / (time.monotonic() - t0)
        keys: list[float] = []
        table.focus()
        await pilot.pause()
        for key in ("o", "o", "o"):
            want = table.sort
            keys.append(await timed_key(app, key, key, lambda w=want: table.sort != w))
        for _ in range(20):
            at = table.cursor
            keys.append(await timed_key(app, "down", None, lambda a=at: table.cursor != a))
        await pilot.press("slash")
        for ch in "svc-12":
            want = table.text_filter + ch
            keys.append(
                await timed_key(app, _character_to_key(ch), ch, lambda w=want: table.text_filter == w)
            )
    return {
        "rows": rows,
        "app_cpu_pct": round(100 * cpu, 2),
        "keys": len(keys),
        "key_median_ms": round(statistics.median(keys), 1),
        "key_max_ms": round(max(keys), 1),
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=60.0)
    opts = p.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        steadiness = cpu_steadiness()
        result = asyncio.run(measure(f"http://127.0.0.1:{port}", opts.seconds))
    finally:
        server.terminate()
        server.wait(10)
    result["cpu_steadiness"] = steadiness
    print(json.dumps(result, indent=1))
    ok = float(result["app_cpu_pct"]) < 5 and float(result["key_max_ms"]) < 50  # type: ignore[arg-type]
    print("within budget (< 5% of a core, keys < 50 ms)" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
