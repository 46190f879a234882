"""Snapshots of the main screen at 80x24 and 160x48, on data that does not change.

Pods come from a fixed event list with a fixed clock; stats come from a loopback HTTP
server that answers like Envoy's admin with a real capture (so rates stay at zero).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from conftest import FIXTURES, loopback_http
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


class _FixedAdmin(BaseHTTPRequestHandler):
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


@pytest.fixture(autouse=True)
def _no_slow_poll_note(monkeypatch: pytest.MonkeyPatch) -> None:
    # "slow poll N ms" depends on how busy the machine is: not part of what a snapshot checks
    monkeypatch.setattr("meshtui.ui.proxies.stats.SLOW_POLL_MS", float("inf"))


@pytest.fixture()
def fixed_admin(monkeypatch) -> Iterator[str]:
    # a loaded machine must not put "slow poll 300 ms" into the snapshot
    monkeypatch.setattr("meshtui.ui.proxies.stats.SLOW_POLL_MS", 10**9)
    with loopback_http(_FixedAdmin) as url:
        yield url


def fixed_app(admin_url: str) -> MeshtuiApp:
    async def events() -> AsyncIterator[PodEvent]:
        yield PodEvent("SYNC", PODS)
        while True:  # a watch with nothing new to say
            await __import__("asyncio").sleep(3600)
            yield PodEvent("MODIFIED", ())

    return MeshtuiApp(
        Options(interval=3600),  # one poll, so the screen cannot move under the snapshot
        clock=lambda: NOW,
        pod_events=events,
        endpoint_for=lambda pod: DirectEndpoint(admin_url, f"{pod.name}:15000"),
    )


async def _settled(pilot) -> None:
    app = pilot.app
    for _ in range(200):
        if app.stats.last is not None and app.stats.table.rows:
            break
        await pilot.pause(0.02)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_main_screen(snap_compare, fixed_admin, size):
    assert snap_compare(fixed_app(fixed_admin), terminal_size=size, run_before=_settled)


def test_filtered_stats_with_histogram_detail(snap_compare, fixed_admin):
    async def run_before(pilot) -> None:
        await _settled(pilot)
        pilot.app.stats.table.focus()
        typed = "cluster.xds-grpc.upstream_cx_c"
        await pilot.press("slash", *typed, "enter")
        for _ in range(200):  # the filtered poll (sent to the "Envoy") is back
            last = pilot.app.stats.last
            if last is not None and last.filter.text == typed:
                break
            await pilot.pause(0.02)
        await pilot.press("G")
        await pilot.pause()

    assert snap_compare(fixed_app(fixed_admin), terminal_size=(160, 48), run_before=run_before)
