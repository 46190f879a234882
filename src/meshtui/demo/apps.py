"""The demo's upstream apps (catalog, webapp), a zipkin collector, and the load loop.

They mirror the scenario: the gateway routes `webapp.istioinaction.io` to webapp,
which calls catalog through its own sidecar's outbound listener and propagates
`x-request-id` and the B3 headers, so Envoy can join the spans into one trace.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import random
import time
from typing import Any

import aiohttp
from aiohttp import web

CATALOG_ITEMS = [
    {
        "id": 1,
        "color": "amber",
        "department": "Eyewear",
        "name": "Elinor Glasses",
        "price": "282.00",
    },
    {"id": 2, "color": "cyan", "department": "Clothing", "name": "Atlas Shirt", "price": "127.00"},
    {
        "id": 3,
        "color": "teal",
        "department": "Clothing",
        "name": "Small Metal Shoes",
        "price": "232.00",
    },
    {
        "id": 4,
        "color": "red",
        "department": "Watches",
        "name": "Red Dragon Watch",
        "price": "232.00",
    },
]

PROPAGATED = (
    "x-request-id",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
    "x-ot-span-context",
    "traceparent",
    "tracestate",
)


FAULT_ANNOTATION = "demo.meshtui/fault"


def parse_fault(text: str) -> tuple[float, float]:
    """`abort=PCT,delay=MS` (either or both) -> (share aborted 0-100, delay in seconds);
    anything unreadable is no fault (a typo must not break the demo)."""
    abort = delay = 0.0
    for part in text.split(","):
        key, _, value = part.strip().partition("=")
        try:
            number = float(value.strip().removesuffix("%").removesuffix("ms"))
        except ValueError:
            continue
        if key.strip() == "abort":
            abort = min(max(number, 0.0), 100.0)
        elif key.strip() == "delay":
            delay = min(max(number, 0.0), 30_000.0) / 1000
    return abort, delay


def catalog_app(fail_every: int = 10, annotations: dict[str, str] | None = None) -> web.Application:
    """GET /items: the four items; every `fail_every`-th request answers 500. A pod annotated
    `demo.meshtui/fault=abort=PCT,delay=MS` (kubectl annotate pod ...) answers that share with
    500 and waits that long first: one replica made slow or failing, for the replicas view."""
    counter = itertools.count(1)
    rng = random.Random()

    async def items(request: web.Request) -> web.Response:
        abort, delay = parse_fault((annotations or {}).get(FAULT_ANNOTATION, ""))
        if delay:
            await asyncio.sleep(delay)
        if abort and rng.uniform(0, 100) < abort:
            return web.json_response({"error": "catalog: demo.meshtui/fault abort"}, status=500)
        if fail_every and next(counter) % fail_every == 0:
            return web.json_response({"error": "catalog: simulated failure"}, status=500)
        return web.json_response(CATALOG_ITEMS)

    app = web.Application()
    app.router.add_get("/items", items)
    app.router.add_get("/items/{id}", items)
    return app


def webapp_app(catalog_url: dict[str, Any]) -> web.Application:
    """GET /api/catalog: asks catalog through the sidecar; `catalog_url["url"]` is set later."""

    async def on_startup(app: web.Application) -> None:
        app["session"] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))

    async def on_cleanup(app: web.Application) -> None:
        await app["session"].close()

    async def api_catalog(request: web.Request) -> web.Response:
        headers = {h: request.headers[h] for h in PROPAGATED if h in request.headers}
        headers["host"] = "catalog.istioinaction.svc.cluster.local"
        try:
            async with request.app["session"].get(catalog_url["url"] + "/items", headers=headers) as r:
                body = await r.read()
                return web.Response(body=body, status=r.status, content_type="application/json")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return web.json_response({"error": f"webapp: catalog unreachable: {exc}"}, status=502)

    app = web.Application()
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_get("/api/catalog", api_catalog)

    async def index(request: web.Request) -> web.Response:
        return web.Response(text="webapp")

    app.router.add_get("/", index)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port


async def load_loop(
    url: str,
    host: str,
    rate: float = 3.0,
    max_seconds: float = 12 * 3600,
    results: collections.Counter[int] | None = None,
    on: asyncio.Event | None = None,
) -> None:
    """The scenario's `while true; do curl .../api/catalog; sleep 1; done`, a bit faster.

    Bounded in time (it stops by itself), loopback only; it waits while `on` is clear.
    """
    deadline = time.monotonic() + max_seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while time.monotonic() < deadline:
            if on is not None:
                await on.wait()  # paused (`/_sim/load/pause`): a test's own load runs alone
            try:
                async with session.get(url, headers={"host": host}) as r:
                    await r.read()
                    if results is not None:
                        results[r.status] += 1
            except (aiohttp.ClientError, asyncio.TimeoutError):
                if results is not None:
                    results[0] += 1
            await asyncio.sleep(1.0 / rate)
