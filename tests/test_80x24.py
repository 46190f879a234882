"""80x24 is a first-class size: every number drawn equals Envoy's, none is cut.

The demo's real webapp Envoy is read once (stats, counter/gauge kinds, clusters,
config dump); a loopback server then answers with those bodies frozen, so the screen
cannot move while the test compares what each view drew at 80x24 with Envoy's values.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx
import pytest
from textual.widgets import TabbedContent

from conftest import loopback_http, until, wait_for
from meshtui.envoy.clusters import parse_clusters
from meshtui.envoy.stats import parse_quantiles
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.format import number

SIZE = (80, 24)


@pytest.fixture(scope="module")
def frozen(mesh) -> Iterator[tuple[str, dict[str, str]]]:
    admin = mesh.info["admin"]["webapp"]

    def get(path: str, **params: str) -> str:
        r = httpx.get(admin + path, params=params, timeout=10, trust_env=False)
        r.raise_for_status()
        return r.text

    # histograms fill at the first stats flushes: wait for a request-time summary with values
    wait_for(
        lambda: "upstream_rq_time: P0(" in get("/stats", filter="catalog.*upstream_rq_time$"),
        20,
        "recorded request times",
    )
    bodies = {
        "stats": get("/stats"),
        "clusters": get("/clusters", format="json"),
        "config_dump": get("/config_dump"),
    }
    # each variant is cut from the one body above, so every answer shows the same moment
    lines = bodies["stats"].splitlines()

    def names(text: str) -> set[str]:
        return {line.partition(": ")[0] for line in text.splitlines()}

    used = names(get("/stats", usedonly=""))
    for kind in ("Counters", "Gauges", "Histograms", "TextReadouts"):
        typed = names(get("/stats", type=kind))
        bodies[kind] = "".join(ln + "\n" for ln in lines if ln.partition(": ")[0] in typed)
        bodies[kind + "-used"] = "".join(ln + "\n" for ln in lines if ln.partition(": ")[0] in typed & used)
    bodies["stats-used"] = "".join(ln + "\n" for ln in lines if ln.partition(": ")[0] in used)

    class Frozen(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            if url.path == "/stats":
                text = bodies[query["type"][0] if "type" in query else "stats"]
                if "usedonly" in query:
                    text = bodies[query["type"][0] + "-used" if "type" in query else "stats-used"]
                if "filter" in query:
                    rx = re.compile(query["filter"][0])
                    text = "".join(ln + "\n" for ln in text.splitlines() if rx.search(ln.partition(": ")[0]))
            elif url.path == "/clusters":
                text = bodies["clusters"]
            elif url.path == "/config_dump":
                text = bodies["config_dump"]
            else:
                self.send_error(404)
                return
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    with loopback_http(Frozen) as url:
        yield url, bodies


def lines_of(widget) -> list[str]:
    return [widget.render_line(y).text for y in range(widget.size.height)]


async def test_stats_at_80x24_numbers_equal_envoys(frozen):
    url, bodies = frozen
    values = dict(line.split(": ", 1) for line in bodies["stats"].splitlines() if ": " in line)
    app = MeshtuiApp(Options(admin=url, interval=3600, stats_filter="cluster.outbound|80||catalog"))
    async with app.run_test(size=SIZE) as pilot:
        table = app.stats.table
        await until(lambda: table.rows and table.snapshot, 10, "stats rows")
        await pilot.pause()
        assert table.size.width >= 70 and table.size.height >= 3  # usable, not squeezed away
        drawn = lines_of(table)[1:]  # the header first
        checked = 0
        for name, line in zip(table.rows[table.scroll_offset.y :], drawn, strict=False):
            raw = values[name]
            if raw[:1].isdigit():
                assert f" {raw} " in f" {line} ", (name, raw, line)  # whole, never cut
                checked += 1
        assert checked >= 3
        # a histogram's percentiles in the detail, equal to Envoy's summary
        hist = next(n for n in table.rows if n.endswith(".upstream_rq_time") and values[n].startswith("P0("))
        table.move_to_key(hist)
        await pilot.pause()
        widget = app.stats.query_one("#stat-detail-text")
        lines = str(widget.render()).splitlines()
        q = parse_quantiles(values[hist])
        cumulative = next(i for i, line in enumerate(lines) if "cumulative" in line)
        interval = next(i for i, line in enumerate(lines) if "interval" in line)
        assert interval < widget.size.height  # on screen at 80x24, not below the fold
        assert all(len(line) <= widget.size.width for line in (lines[cumulative], lines[interval]))
        for label in ("P50", "P90", "P99"):
            assert f"{label} {number(q[label].cumulative)} " in lines[cumulative] + " "
            assert f"{label} {number(q[label].interval)} " in lines[interval] + " "


async def test_clusters_at_80x24_numbers_equal_envoys(frozen):
    url, bodies = frozen
    envoy = {c.name: c for c in parse_clusters(bodies["clusters"])}
    app = MeshtuiApp(Options(admin=url, interval=3600))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.stats.last, 10, "the app up")
        app.query_one(TabbedContent).active = "tab-clusters"
        table = app.clusters.table
        await until(lambda: table.rows and table.snapshot, 10, "clusters")
        await pilot.pause()
        header, *drawn = lines_of(table)
        assert "HEALTHY" in header and "RQ TOTAL" in header and "ERR %" in header
        assert len(header.rstrip()) <= table.size.width
        for name, line in zip(table.rows[table.scroll_offset.y :], drawn, strict=False):
            c = envoy[name]
            cells = line.split()
            assert cells[-2] == str(c.total("rq_total")), (name, line)  # RQ TOTAL whole
            assert f"{c.healthy}/{len(c.hosts)}" in cells, (name, line)
