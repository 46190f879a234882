"""Bodies read over HTTP are freed when the caller lets go of them, not at the next full
pass of the cyclic GC (meshtui/http.py): no httpx response is left in a reference
cycle by the admin, istiod or Jaeger clients."""

from __future__ import annotations

import gc
from http.server import BaseHTTPRequestHandler

import httpx

from helpers.loopback import loopback_http
from meshtui.envoy.admin import EnvoyAdmin
from meshtui.istiod.client import MonitoringClient
from meshtui.jaeger.client import JaegerClient

BODY = b"cluster.outbound|80||svc.upstream_rq_total: 1\n" * 4000  # ~180 KB, as a /stats


class Stats(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


def responses_in_cycles() -> list[httpx.Response]:
    """The responses only the cyclic GC would have freed."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return [o for o in gc.garbage if isinstance(o, httpx.Response)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_no_response_waits_for_the_cyclic_gc() -> None:
    with loopback_http(Stats) as url:
        admin, istiod, jaeger = EnvoyAdmin(url), MonitoringClient(url), JaegerClient(url)
        try:
            assert len(await admin.stats_get({"usedonly": ""})) == len(BODY)  # warm the pools
            gc.collect()
            gc.disable()
            try:
                for _ in range(5):
                    assert len(await admin.stats_get({"usedonly": ""})) == len(BODY)
                    assert len(await admin.get_in_thread("/stats")) == len(BODY)  # the sync client
                    assert len(await istiod.metrics()) == len(BODY)
                    assert (await jaeger._get(f"{url}/api/services")).status_code == 200
                left = responses_in_cycles()
            finally:
                gc.enable()
            assert left == [], f"{len(left)} responses held in reference cycles"
        finally:
            await admin.aclose()
            await istiod.aclose()
            await jaeger.aclose()
