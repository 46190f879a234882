"""The Mesh place at 500 services x 20 edges each (10,500 rows), refreshed every 5 s.

A stand-in Prometheus in its own process answers the place's queries
(prometheus/queries.py refresh(): rates, 5xx and 4xx rates, latency with the selector for
the edges on screen) over the real HTTP API shape (`/api/v1/query`, vectors with the
labels the queries group by, label matchers `=~` honoured), with values that change every
answer; one edge in ERRORS_EVERY has 5xx/4xx series. The bench measures the app, not
Prometheus, whose answers the tests check against a real one. The app runs in-process
(Textual's headless driver, 160x48) with `--prometheus URL`; its CPU is read with
`time.process_time` (all threads) over `--seconds` while the place is shown, then the
place's keys are timed from the key event to the repainted screen (bench/timing.py), and
how long the edges scrolled to wait for their latency.
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

from meshtui.prometheus.feed import MeshRow
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.mesh.table import MeshTable
from timing import cpu_steadiness, timed_key

SERVICES, EDGES_EACH = 500, 20
# one edge in ERRORS_EVERY has 5xx and 4xx series (a counter series exists once a proxy has
# counted a response of that code; most edges of a mesh never answered 5xx)
ERRORS_EVERY = 10

# the stand-in, run as `python -c SERVER PORT SERVICES EDGES_EACH ERRORS_EVERY`
SERVER = textwrap.dedent(
    r"""
    import json, random, re, sys
    from aiohttp import web
    port, n_services, edges_each, errors_every = map(int, sys.argv[1:5])
    services = [f"svc-{i:03d}.ns-{i % 25:02d}.svc.cluster.local" for i in range(n_services)]
    def matchers(query):  # label=~"regex" (a PromQL string: \\ is one backslash)
        found = re.findall(r'(\w+)=~"((?:[^"\\]|\\.)*)"', query)
        return {k: re.compile(v.replace("\\\\", "\\")) for k, v in found if k != "response_code"}
    def vector(query):
        edge = "source_workload" in query
        only = matchers(query)
        rows = []
        for i, svc in enumerate(services):
            for j in range(edges_each if edge else 1):
                labels = {"destination_service": svc}
                if edge:
                    labels["source_workload"] = f"wl-{(i + j) % n_services:03d}"
                    labels["source_workload_namespace"] = f"ns-{j:02d}"
                if any(not m.fullmatch(labels.get(k, "")) for k, m in only.items()):
                    continue
                if "histogram_quantile" in query:
                    value = random.uniform(1, 300)
                elif "response_code" in query:
                    if (i + j) % errors_every:
                        continue  # no such series: this edge never answered that class
                    value = random.uniform(0, 20)
                else:
                    value = random.uniform(0.1, 50)
                rows.append({"metric": labels, "value": [0, repr(value)]})
        return rows
    async def query(request):
        q = request.query.get("query", "")
        body = {"status": "success", "data": {"resultType": "vector", "result": vector(q)}}
        return web.Response(text=json.dumps(body), content_type="application/json")
    app = web.Application()
    app.router.add_get("/api/v1/query", query)
    web.run_app(app, host="127.0.0.1", port=port, print=None)
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
        keys: dict[str, list[float]] = {"sort": [], "down": [], "page": [], "filter": []}
        table.focus()
        await pilot.pause()
        for key in ("o", "o", "o"):
            want = table.sort
            keys["sort"].append(await timed_key(app, key, key, lambda w=want: table.sort != w))
        for _ in range(20):
            at = table.cursor
            keys["down"].append(await timed_key(app, "down", None, lambda a=at: table.cursor != a))
        filled: list[float] = []
        await pilot.press("end")  # among the edges
        for _ in range(3):
            at = table.cursor
            keys["page"].append(await timed_key(app, "pageup", None, lambda a=at: table.cursor != a))
            t = time.monotonic()  # the edges scrolled to get their latency from a top-up poll
            while not all(r.asked("p50_ms") for r in on_screen_rows(table)) and time.monotonic() - t < 10:
                await asyncio.sleep(0.01)
            filled.append((time.monotonic() - t) * 1000)
        await pilot.press("slash")
        for ch in "svc-12":
            want = table.text_filter + ch
            keys["filter"].append(
                await timed_key(app, _character_to_key(ch), ch, lambda w=want: table.text_filter == w)
            )
    every = [k for ks in keys.values() for k in ks]
    return {
        "rows": rows,
        "app_cpu_pct": round(100 * cpu, 2),
        "keys": len(every),
        "key_median_ms": round(statistics.median(every), 1),
        "key_max_ms": round(max(every), 1),
        "key_max_ms_by_kind": {kind: round(max(ks), 1) for kind, ks in keys.items()},
        "latency_after_scroll_ms": round(max(filled), 1),
    }


def on_screen_rows(table: MeshTable) -> list[MeshRow]:
    top, body = int(table.scroll_y), table.size.height - 1
    rows = (table.by_key.get(k) for k in table.rows[top : top + body])
    return [r for r in rows if r is not None and r.source]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=60.0)
    opts = p.parse_args()
    port = free_port()
    args = (port, SERVICES, EDGES_EACH, ERRORS_EVERY)
    server = subprocess.Popen([sys.executable, "-c", SERVER, *map(str, args)])
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
