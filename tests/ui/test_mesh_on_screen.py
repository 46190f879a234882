"""The Mesh place asks the edges' latency for the rows on screen only, and for the rows
scrolled to at once, at the refresh's instant: against a loopback stand-in that answers
the place's PromQL (vectors keyed by the labels it groups by) and records what it is asked.
(The numbers themselves are checked against a real Prometheus in tests/mesh.)"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse

import pytest

from helpers.loopback import Answering, loopback_http
from helpers.wait import until
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.mesh.pane import MeshPane
from meshtui.ui.mesh.table import MeshTable

SERVICES, EACH = 30, 20  # 600 edges: many screens of rows


def edges() -> list[tuple[str, str, str]]:
    return [
        (f"wl-{(i + j) % SERVICES:02d}", f"ns-{j:02d}", f"svc-{i:02d}.mesh.svc.cluster.local")
        for i in range(SERVICES)
        for j in range(EACH)
    ]


def p50_of(edge: tuple[str, str, str]) -> float:
    return float(100 + edges().index(edge))  # each edge its own latency, to read it back


class StandIn(Answering):
    asked: list[tuple[str, float]] = []  # (query, time=) of every query
    lock = threading.Lock()

    def do_GET(self) -> None:
        args = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        query, at = args["query"][0], float(args["time"][0])
        with StandIn.lock:
            StandIn.asked.append((query, at))
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": vector(query)}})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())


def vector(query: str) -> list[dict]:
    only = {
        k: re.compile(re.sub(r"\\(.)", r"\1", v))
        for k, v in re.findall(r'(\w+)=~"((?:[^"\\]|\\.)*)"', query)
        if k != "response_code"
    }
    out = []
    if "source_workload" not in query:
        for i in range(SERVICES):
            out.append({"metric": {"destination_service": edges()[i * EACH][2]}, "value": [0, "10"]})
        return [] if "response_code" in query else out
    for e in edges():
        labels = dict(
            zip(("source_workload", "source_workload_namespace", "destination_service"), e, strict=True)
        )
        if any(not m.fullmatch(labels[k]) for k, m in only.items()):
            continue
        if 'response_code=~"5' in query:
            value = "1" if e[1] == "ns-00" else None  # a 5xx series on the first edge of each service
        elif "response_code" in query:
            value = None
        elif "histogram_quantile(0.5," in query:
            value = str(p50_of(e))
        elif "histogram_quantile" in query:
            value = "999"
        else:
            value = "4"
        if value is not None:
            out.append({"metric": labels, "value": [0, value]})
    return out


def on_screen(table: MeshTable) -> list:
    top, body = int(table.scroll_y), table.size.height - 1
    rows = (table.by_key.get(k) for k in table.rows[top : top + body])
    return [r for r in rows if r is not None and r.source]


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_latency_for_the_rows_on_screen_and_at_once_for_rows_scrolled_to(size):
    StandIn.asked.clear()
    with loopback_http(StandIn) as url:
        app = MeshtuiApp(Options(admin="http://127.0.0.1:9", prometheus=url))
        async with app.run_test(size=size) as pilot:
            await pilot.press("colon", *"mesh", "enter")
            table = app.query_one(MeshPane).table
            await until(lambda: len(table.rows) == SERVICES * (EACH + 1) + 2, 15, "every row")
            await pilot.press("end")  # among the edges, sorted by 5xx share then rate then name
            await until(
                lambda: on_screen(table) and all(r.asked("p50_ms") for r in on_screen(table)),
                2,
                "the latency of the edges scrolled to (a top-up, not the next refresh 5 s on)",
            )
            shown = on_screen(table)
            for row in shown:
                assert row.get("p50_ms") == p50_of(row.edge), row.key
                assert row.get("p99_ms") == 999.0
            # the edges far from the screen were never asked for: `·` in their cells
            far = [table.by_key[k] for k in table.rows[2 : 2 + SERVICES] if table.by_key.get(k) is not None]
            far_edges = [
                r for r in table.by_key.values() if r.source and r.edge not in {s.edge for s in shown}
            ]
            assert any(not r.asked("p50_ms") for r in far_edges), "every edge's latency was asked"
            assert all(r.asked("p50_ms") for r in far if not r.source)  # services: always
            # the top-up asked at the refresh's instant, and the shares are Prometheus's arithmetic
            rps_at = {at for q, at in StandIn.asked if q.startswith("sum by") and "response_code" not in q}
            latency_at = {
                at for q, at in StandIn.asked if "histogram_quantile" in q and "source_workload" in q
            }
            assert latency_at <= rps_at
            first_edges = [r for r in table.by_key.values() if r.source_namespace == "ns-00"]
            assert first_edges and all(r.get("error_pct") == 25.0 for r in first_edges)  # 1 of 4 rps
            assert table.rows[table.rows.index("\x00edges") + 1] in {
                r.key for r in first_edges
            }  # sorted first
