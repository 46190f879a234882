"""The app on data that does not change: pods from a fixed event list with a fixed clock,
stats from a loopback server that answers like Envoy's admin with a real capture."""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler

from textual.widgets import TabbedContent

from helpers.mesh import FIXTURES, select_pod
from helpers.wait import until
from meshtui.envoy.feed import DirectEndpoint
from meshtui.envoy.stats import raw_kind
from meshtui.kube.pods import PodEvent, PodInfo
from meshtui.ui.app import MeshtuiApp, Options

NOW = 1_780_000_000.0
PODS = (
    PodInfo(
        "istioinaction",
        "catalog-6cf4b97d-5kkz8",
        "u1",
        "catalog",
        "2/2",
        "Running",
        0,
        NOW - 3600,
        "10.10.0.17",
        "1.17.8",
    ),
    PodInfo(
        "istioinaction",
        "webapp-7685bcb84-hxpqj",
        "u2",
        "webapp",
        "2/2",
        "Running",
        1,
        NOW - 3500,
        "10.10.0.18",
        "1.17.8",
    ),
    PodInfo(
        "istio-system",
        "istio-ingressgateway-5bf6c9887-vvvmj",
        "u3",
        "istio-ingressgateway",
        "1/1",
        "Running",
        0,
        NOW - 7300,
        "10.10.0.9",
        "1.17.8",
        True,
    ),
    PodInfo(
        "istio-system",
        "istiod-7d4f5d6c9-x8kqn",
        "u4",
        "istiod",
        "1/1",
        "Running",
        0,
        NOW - 7400,
        "10.10.0.8",
        None,
    ),
)


class FixedAdmin(BaseHTTPRequestHandler):
    body = (FIXTURES / "seed" / "catalog-sidecar-stats.txt").read_text()

    def do_GET(self) -> None:
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        lines = self.body.splitlines()
        if "type" in query:
            # the capture does not say which numbers are gauges: here all are counters
            shape = {"Histograms": "histogram", "TextReadouts": "text", "Counters": "number"}
            want = shape.get(query["type"][0])
            lines = [line for line in lines if raw_kind(line.partition(": ")[2]) == want]
        if "filter" in query:
            rx = re.compile(query["filter"][0])
            lines = [line for line in lines if rx.search(line.partition(": ")[0])]
        data = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def fixed_app(admin_url: str) -> MeshtuiApp:
    async def events() -> AsyncIterator[PodEvent]:
        yield PodEvent("SYNC", PODS)
        while True:  # a watch with nothing new to say
            await asyncio.sleep(3600)
            yield PodEvent("MODIFIED", ())

    return MeshtuiApp(
        Options(interval=3600),  # one poll, so the screen cannot move under the snapshot
        clock=lambda: NOW,
        pod_events=events,
        endpoint_for=lambda pod: DirectEndpoint(admin_url, f"{pod.name}:15000"),
    )


async def open_proxy(app: MeshtuiApp, pilot, mesh) -> None:  # type: ignore[no-untyped-def]
    await select_pod(app, pilot, "catalog", mesh)
    app.query_one(TabbedContent).active = "tab-proxy"
    await until(lambda: "router" in app.proxy.levels, 10, "log levels listed")
    table = app.proxy.table
    table.focus()
    table.move_cursor(row=table.get_row_index("router"))
