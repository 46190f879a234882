"""The config history and the Events place under a long day's changes.

1. History: the demo mesh (real Envoys, the demo's istiod) with webapp's config changed
   `--changes` times (a VirtualService on catalog patched each time: retries and timeout),
   one change every `--every` seconds: the issue's "every 10 s for an hour" is 360 changes,
   here run faster (the history feed polls every 0.2 s instead of 2 s, so it sees each).
   Measured: the versions kept, the bytes of their dumps, and the Python memory the history
   holds (tracemalloc, everything allocated since the feed started and still alive).
2. The Events place with 10,000 entries (in-process, Textual's headless driver, 160x48):
   cursor, page, end/home and filter keys, key event to repainted screen (bench/timing.py).
Budgets: the history under 50 MB; keys under 50 ms.
Run: `.venv/bin/python bench/events.py [--changes 360] [--every 0.5]` (about 4 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from textual.keys import _character_to_key

from meshtui.demo.run import start_mesh
from meshtui.envoy.config_history import HistoryFeed
from meshtui.envoy.live import DirectEndpoint
from meshtui.events.model import MeshEvent
from meshtui.kube import config as kube_config
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.events.messages import EventsRecorded
from meshtui.ui.events.pane import EventsPane
from timing import timed_key

VS_PATH = ("networking.istio.io", "v1beta1", "istioinaction", "virtualservices")


def virtual_service(i: int) -> dict[str, object]:
    return {
        "apiVersion": "networking.istio.io/v1beta1",
        "kind": "VirtualService",
        "metadata": {"name": "catalog", "namespace": "istioinaction"},
        "spec": {
            "hosts": ["catalog.istioinaction.svc.cluster.local"],
            "http": [
                {
                    "route": [{"destination": {"host": "catalog.istioinaction.svc.cluster.local"}}],
                    "retries": {"attempts": 1 + i % 5},
                    "timeout": f"{5 + i % 7}s",
                }
            ],
        },
    }


async def history(changes: int, every: float) -> dict[str, object]:
    from kubernetes import client

    with start_mesh(rate=0) as mesh:
        api = client.CustomObjectsApi(kube_config.load(mesh.kubeconfig).api_client())
        group, version, ns, plural = VS_PATH
        api.create_namespaced_custom_object(group, version, ns, plural, virtual_service(0))
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        feed = HistoryFeed(DirectEndpoint(mesh.info["admin"]["webapp"], "webapp"), interval=0.2)
        last: list[object] = []

        async def watch() -> None:
            async for update in feed.updates():
                last[:] = [update]

        task = asyncio.create_task(watch())
        t0 = time.monotonic()
        for i in range(1, changes + 1):
            body = virtual_service(i)
            await asyncio.to_thread(
                api.replace_namespaced_custom_object, group, version, ns, plural, "catalog", body
            )
            await asyncio.sleep(max(0.0, t0 + i * every - time.monotonic()))
        await asyncio.sleep(1.0)  # the last change's version read
        task.cancel()
        held = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        update = last[0] if last else None
        versions = getattr(update, "versions", ())
        return {
            "changes": changes,
            "versions_seen": versions[-1].number if versions else 0,
            "versions_kept": len(versions),
            "dump_bytes_kept": sum(v.size for v in versions),
            "python_memory_mb": round(held / 2**20, 1),
            "last_change": versions[-1].changes[0].line() if versions and versions[-1].changes else "",
        }


async def keys(entries: int) -> dict[str, object]:
    app = MeshtuiApp(Options(admin="http://127.0.0.1:9"))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("colon", *"events", "enter")
        pane = app.query_one(EventsPane)
        now = time.time()
        kinds = ("Pod", "xDS", "Push", "VirtualService", "Proxy")
        burst = tuple(
            MeshEvent(
                now - entries + i,
                kinds[i % 5],
                f"ns-{i % 40}/pod-{i:05d}",
                f"change {i}: new RDS sent, acked",
            )
            for i in range(entries)
        )
        pane.post_message(EventsRecorded(burst))
        table = pane.table
        for _ in range(400):
            if len(table.rows) >= entries:
                break
            await asyncio.sleep(0.05)
        table.focus()
        await pilot.pause()
        timings: dict[str, list[float]] = {"down": [], "page": [], "jump": [], "filter": []}
        for _ in range(20):
            at = table.cursor
            timings["down"].append(await timed_key(app, "down", None, lambda a=at: table.cursor != a))
        for _ in range(5):
            at = table.cursor
            timings["page"].append(await timed_key(app, "pagedown", None, lambda a=at: table.cursor != a))
        for key in ("end", "home"):
            at = table.cursor
            timings["jump"].append(await timed_key(app, key, None, lambda a=at: table.cursor != a))
        await pilot.press("slash")
        for ch in "pod-01":
            want = table.text_filter + ch
            timings["filter"].append(
                await timed_key(app, _character_to_key(ch), ch, lambda w=want: table.text_filter == w)
            )
        every = [t for ts in timings.values() for t in ts]
        return {
            "entries": len(pane.log_),
            "keys": len(every),
            "key_median_ms": round(statistics.median(every), 1),
            "key_max_ms": round(max(every), 1),
            "key_max_ms_by_kind": {k: round(max(v), 1) for k, v in timings.items()},
        }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--changes", type=int, default=360)
    p.add_argument("--every", type=float, default=0.5)
    p.add_argument("--entries", type=int, default=10_000)
    opts = p.parse_args()
    result = {
        "history": asyncio.run(history(opts.changes, opts.every)),
        "events": asyncio.run(keys(opts.entries)),
    }
    print(json.dumps(result, indent=1))
    ok = result["history"]["python_memory_mb"] < 50 and result["events"]["key_max_ms"] < 50  # type: ignore[index,operator]
    print("within budget (history < 50 MB, keys < 50 ms)" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
