"""80x24 is a first-class size: every number drawn equals Envoy's, none is cut.

The demo's real webapp Envoy is read once (stats, counter/gauge kinds, clusters,
config dump); a loopback server then answers with those bodies frozen, so the screen
cannot move while the test compares what each view drew at 80x24 with Envoy's values.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx
import pytest
from cryptography import x509
from textual.widgets import DataTable, TabbedContent, Tabs

from helpers.loopback import loopback_http
from helpers.wait import until, wait_for
from meshtui.envoy.clusters import parse_clusters
from meshtui.envoy.config_dump import cell
from meshtui.envoy.stats import parse_quantiles
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.format import middle_truncate, number
from meshtui.ui.proxies.config_table import ConfigTable

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
    # and for the tracer's span reports (the Config tab's tracing section counts them by status)
    wait_for(
        lambda: re.search(r"upstream_rq_\d{3}: [1-9]", get("/stats", filter="^cluster.zipkin.upstream_rq_")),
        30,
        "a span report to the collector",
    )
    bodies = {
        "stats": get("/stats"),
        "clusters": get("/clusters", format="json"),
        "config_dump": get("/config_dump"),
        "logging": httpx.post(admin + "/logging", timeout=10, trust_env=False).text,  # lists, sets nothing
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

        def do_POST(self) -> None:
            if self.path != "/logging":  # the Proxy tab only reads the levels here
                self.send_error(404)
                return
            data = bodies["logging"].encode()
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


async def test_64_bit_counters_and_gauges_are_shown_whole_at_80x24(frozen):
    """Envoy's `.version` gauges are 64-bit hashes of up to 20 digits; shown exactly, as
    /stats prints them, not as `1.51323755313e+19`."""
    url, bodies = frozen
    values = dict(line.split(": ", 1) for line in bodies["stats"].splitlines() if ": " in line)
    long = {n: v for n, v in values.items() if n.endswith(".version") and v.isdigit() and len(v) >= 18}
    assert long, "a 64-bit version hash in the capture"
    app = MeshtuiApp(Options(admin=url, interval=3600, stats_filter="re:\\.version$"))
    async with app.run_test(size=SIZE):
        table = app.stats.table
        await until(lambda: table.rows and table.snapshot, 10, "stats rows")

        def drawn() -> dict[str, str]:
            return dict(zip(table.rows[table.scroll_offset.y :], lines_of(table)[1:], strict=False))

        # the rows are painted a frame after they are set: wait for a version row on screen
        await until(lambda: any(n in drawn() and drawn()[n].strip() for n in long), 10, "version rows drawn")
        shown = drawn()
        checked = [n for n in long if n in shown]
        for name in checked:
            assert f" {long[name]} " in f" {shown[name]} ", (name, shown[name])


async def test_stat_names_use_the_room_their_values_leave_and_keep_the_port_at_80x24(frozen):
    """`cluster.inbound|80…al.upstream_rq_2xx` beside `cluster.inbound|80…||.upstream_rq_2xx`
    with 14 blank columns before VALUE: a name runs into the room its value leaves, and
    when cut it keeps its cluster's port, so no two rows on screen read alike."""
    url, _ = frozen
    app = MeshtuiApp(Options(admin=url, interval=3600, stats_filter="cluster.inbound|"))
    async with app.run_test(size=SIZE) as pilot:
        table = app.stats.table
        await until(lambda: table.rows and table.snapshot, 10, "stats rows")
        await pilot.pause()
        name_w = table._name_width(table.size.width)  # the NAME column, before a value's room
        drawn = lines_of(table)[1:]
        names = [line.rsplit(None, 1)[0] if line.strip() else "" for line in drawn]
        shown = dict(zip(table.rows[table.scroll_offset.y :], drawn, strict=False))
        assert len(shown) >= 3
        for name, line in shown.items():
            assert name in line or ("|8080|" in line or "|3000|" in line), (name, line)
        # longer than the column, but not than the room a short value leaves: whole
        longer = [n for n in shown if name_w < len(n) <= name_w + 15]
        assert longer and all(n in shown[n] for n in longer), (name_w, longer)
        assert len(set(names)) == len(names)


async def test_a_sort_change_shows_the_top_of_the_new_order_at_80x24(frozen):
    """`o` from deep in the list: the header says `sort: value` and the rows on screen are
    the largest values, not the zero values around the old cursor."""
    url, bodies = frozen
    app = MeshtuiApp(Options(admin=url, interval=3600))
    async with app.run_test(size=SIZE) as pilot:
        table = app.stats.table
        await until(lambda: len(table.rows) > 100 and table.snapshot, 10, "stats rows")
        table.focus()
        table.move_to_key(table.rows[len(table.rows) // 2])
        await pilot.pause()
        assert table.scroll_offset.y > 0
        await pilot.press("o", "o")  # name -> rate -> value: values move on a frozen Envoy
        await until(lambda: table.sort == "value", 3, "sorted by value")
        await pilot.pause()
        assert table.scroll_offset.y == 0 and table.cursor == 0
        values = dict(line.split(": ", 1) for line in bodies["stats"].splitlines() if ": " in line)
        biggest = max(float(values[n]) for n in table.rows if values.get(n, "").isdigit())
        first = table.rows[0]
        assert float(values[first]) == biggest and f" {values[first]} " in lines_of(table)[1] + " "


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


def cells_on_screen(table: DataTable) -> list[dict[str, str]]:
    """Per drawn row, the text under each column that is whole on screen (keyed by column)."""
    spans, x = [], -int(table.scroll_x)
    for col in table.ordered_columns:
        width = col.get_render_width(table)
        left, right = x + table.cell_padding, x + width - table.cell_padding
        if left >= 0 and right <= table.size.width:
            spans.append((str(col.key.value), left, right))
        x += width
    return _drawn(table, spans, table.size.width)


def config_cells_on_screen(table: ConfigTable) -> list[dict[str, str]]:
    """The same for a Config section (a Line-API table: a space after each column)."""
    spans, x = [], -int(table.scroll_x)
    for key, width in zip(table.keys, table.widths, strict=True):
        spans.append((key, x, x + width))
        x += width + 1
    return _drawn(table, spans, table.scrollable_content_region.width)


def _drawn(
    table: DataTable | ConfigTable, spans: list[tuple[str, int, int]], width: int
) -> list[dict[str, str]]:
    whole = [(key, left, right) for key, left, right in spans if left >= 0 and right <= width]
    out = []
    for y in range(1, table.size.height):  # the header first
        text = table.render_line(y).text
        if not text.strip():
            break
        out.append({key: text[left:right].strip() for key, left, right in whole})
    return out


def envoys_config(dump: dict) -> dict[str, dict[str, str]]:
    """What the raw /config_dump says, read here without meshtui's parser."""
    by_type = {c["@type"].rsplit(".", 1)[1]: c for c in dump["configs"]}
    listeners = {
        d["active_state"]["listener"]["name"]: str(
            d["active_state"]["listener"]["address"]["socket_address"]["port_value"]
        )
        for d in by_type["ListenersConfigDump"].get("dynamic_listeners", [])
        if "active_state" in d
    }
    node = by_type["BootstrapConfigDump"]["bootstrap"]["node"]
    bootstrap = {"node.id": node["id"], "node.cluster": node["cluster"]}
    for key, value in node.get("metadata", {}).items():
        shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        bootstrap[f"node.metadata.{key}"] = shown
    not_after = {}
    for entry in by_type["SecretsConfigDump"].get("dynamic_active_secrets", []):
        secret = entry["secret"]
        pem = (secret.get("tls_certificate") or {}).get("certificate_chain") or (
            secret.get("validation_context") or {}
        ).get("trusted_ca")
        raw = (
            base64.b64decode(pem["inline_bytes"]) if "inline_bytes" in pem else pem["inline_string"].encode()
        )
        cert = x509.load_pem_x509_certificate(raw)
        not_after[secret["name"]] = cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")  # RFC 3339
    sampling: set[str] = set()

    def walk(node: object) -> None:  # every HTTP connection manager's tracing.random_sampling
        if isinstance(node, dict):
            value = ((node.get("tracing") or {}).get("random_sampling") or {}).get("value")
            if value is not None:
                sampling.add(f"{value:g}%")
            for sub in node.values():
                walk(sub)
        elif isinstance(node, list):
            for sub in node:
                walk(sub)

    walk(by_type["ListenersConfigDump"])
    return {"listeners": listeners, "bootstrap": bootstrap, "secrets": not_after, "sampling": sampling}  # type: ignore[dict-item]


async def test_config_at_80x24_numbers_equal_envoys(frozen):
    url, bodies = frozen
    dump = json.loads(bodies["config_dump"])
    envoy = envoys_config(dump)
    stats = dict(line.split(": ", 1) for line in bodies["stats"].splitlines() if ": " in line)
    app = MeshtuiApp(Options(admin=url, interval=3600))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.stats.last, 10, "the app up")
        app.query_one(TabbedContent).active = "tab-config"
        pane = app.query_one("ConfigPane")
        await until(lambda: pane.doc is not None and pane.tracing is not None, 10, "the config dump")
        compared: set[str] = set()  # the sections whose figures were checked against Envoy's
        for section in ("listeners", "routes", "clusters", "bootstrap", "secrets", "tracing"):
            pane.query_one(Tabs).active = f"section-{section}"
            await until(lambda s=section: pane.section == s and pane.table.rows, 5, section)
            await pilot.pause()
            table = pane.table
            assert table.size.height >= 4, section  # the table keeps rows at 80x24
            # a long value keeps both ends within half the pane: never cut again at its edge
            assert pane.column_limit() <= table.size.width // 2 + 1
            seen: dict[int, dict[str, str]] = {}
            lefts = [0]
            for width in table.widths:
                lefts.append(lefts[-1] + width + 1)
            # a wide section scrolls: brought to each column's left edge, each cell is whole once
            # and a long one scrolls down: every row is seen
            ys = {*range(0, table.max_scroll_y, max(1, table.size.height - 1)), table.max_scroll_y}
            for x, y in [
                (x, y) for x in sorted({min(left, table.max_scroll_x) for left in lefts[:-1]}) for y in ys
            ]:
                table.scroll_to(x=x, y=y, animate=False, immediate=True)
                await pilot.pause()
                for i, cells in enumerate(config_cells_on_screen(table), start=int(table.scroll_y)):
                    seen.setdefault(i, {}).update(cells)
            assert sorted(seen) == list(range(len(pane.shown))), (section, "rows never on screen")
            assert seen, section
            columns = list(table.keys)
            for i, cells in seen.items():
                row = pane.shown[i]
                assert set(cells) == set(columns), (section, "cut columns", set(columns) - set(cells))
                for col, text in cells.items():
                    # whole, or a long name shortened in the middle (never cut at its end)
                    want = middle_truncate(cell(row.get(col, "")) or "-", pane.column_limit())
                    assert text == want, (section, col, text, row.get(col))
                # and the figures are Envoy's, read from its own answer
                if section == "listeners" and row["name"] in envoy["listeners"]:
                    assert cells["port"] == envoy["listeners"][row["name"]]
                    compared.add(section)
                elif section == "clusters" and "|" in row["name"]:
                    assert cells["port"] == row["name"].split("|")[1]
                    compared.add(section)
                elif section == "bootstrap" and cells["key"] in envoy["bootstrap"]:
                    want = middle_truncate(envoy["bootstrap"][cells["key"]], pane.column_limit())
                    assert cells["value"] == want
                    compared.add(section)
                elif section == "secrets":
                    assert cells["not_after"] == envoy["secrets"][row["name"]]
                    compared.add(section)
                elif section == "tracing" and row["check"] == "span reports by status":
                    for code, n in re.findall(r"(\d{3}): (\d+)", cells["value"]):
                        assert stats[f"cluster.zipkin.upstream_rq_{code}"] == n
                        compared.add("span reports")
                elif section == "tracing" and row["check"] == "sampling":
                    assert set(cells["value"].split(", ")) == envoy["sampling"]
                    compared.add(section)
        assert compared == {"listeners", "clusters", "bootstrap", "secrets", "tracing", "span reports"}


async def test_proxy_at_80x24_levels_equal_envoys(frozen):
    url, bodies = frozen
    envoy = dict(
        line.strip().split(": ", 1) for line in bodies["logging"].splitlines() if line.startswith("  ")
    )
    app = MeshtuiApp(Options(admin=url, interval=3600))
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.stats.last, 10, "the app up")
        app.query_one(TabbedContent).active = "tab-proxy"
        pane = app.query_one("ProxyPane")
        await until(lambda: pane.table.row_count, 10, "the loggers")
        await pilot.pause()
        state = str(pane.query_one("#proxy-state").render())
        assert state.startswith(f"{len(envoy)} loggers on ")  # the count is Envoy's
        # the columns widen to their content a frame after the rows arrive: wait for that layout
        await until(
            lambda: (
                cells_on_screen(pane.table) and all(c["LOGGER"] in envoy for c in cells_on_screen(pane.table))
            ),
            5,
            "the loggers table laid out",
        )
        drawn = cells_on_screen(pane.table)
        assert len(drawn) >= 5  # rows on screen at 80x24
        for cells in drawn:
            assert cells["LEVEL"] == envoy[cells["LOGGER"]] and not cells["WAS (meshtui changed it)"], cells
