"""The waterfall repaints completely: a second trace (or the results before it) leaves
nothing of itself on screen, and small terminals still show span rows."""

from __future__ import annotations

from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.widgets import DataTable, Input

from helpers.apps import FixedAdmin, fixed_app
from helpers.loopback import loopback_http
from helpers.wait import until
from meshtui.ui.traces.pane import TracesPane
from meshtui.ui.traces.waterfall import Waterfall


class Terminal:
    """The screen a terminal shows: every update Textual sends (full or partial), applied
    in order, so what an update leaves unpainted stays visible as it would for a user."""

    def __init__(self, app) -> None:
        self.cells = [[" "] * app.size.width for _ in range(app.size.height)]
        display = app._display

        def capture(screen, renderable) -> None:
            self.apply(renderable)
            display(screen, renderable)

        app._display = capture

    def put(self, x: int, y: int, text: str, x1: int = 0, x2: int = 10**6) -> None:
        row = self.cells[y] if 0 <= y < len(self.cells) else []
        for i, ch in enumerate(text):
            if x1 <= x + i < min(x2, len(row)):
                row[x + i] = ch

    def apply(self, update) -> None:
        if isinstance(update, LayoutUpdate):
            for dy, line in enumerate(update.strips):
                self.put(update.region.x, update.region.y + dy, "".join(s.text for s in line))
        elif isinstance(update, ChopsUpdate):
            for y, x1, x2 in update.spans:
                for x, strip in update.chops[y].items():
                    if strip is not None:
                        self.put(x, y, strip.text, x1, x2)

    def region(self, r) -> list[str]:
        return ["".join(self.cells[y][r.x : r.right]) for y in range(r.y, r.bottom)]


def fresh_lines(waterfall: Waterfall) -> list[str]:
    """What the waterfall paints for its trace with nothing cached."""
    waterfall._strips.clear()
    return [waterfall.render_line(y).text for y in range(waterfall.size.height)]


async def test_second_trace_leaves_nothing_of_the_first(jaeger_url, store):
    from helpers.spans import envoy_spans

    other = "0" * 31 + "9"
    spans = envoy_spans(other, rid="rid-9")
    for s in spans:
        s["duration"] = s["duration"] // 7 + 3
    store.add_zipkin(spans)
    with loopback_http(FixedAdmin) as admin:
        app = fixed_app(admin)
        app.options.jaeger_url = jaeger_url
        async with app.run_test(size=(120, 40)) as pilot:
            term = Terminal(app)
            app.go_to("traces")
            await until(lambda: "classic /api" in str(app.query_one("#traces-jaeger").render()), 5, "Jaeger")
            pane = app.query_one(TracesPane)
            app.query_one("#tr-service", Input).value = "webapp.istioinaction"
            app.query_one("#tr-lookback", Input).value = "15m"
            pane.action_search()
            table = app.query_one("#traces-results", DataTable)
            await until(lambda: table.row_count == 3, 5, "three traces")
            table.focus()
            await pilot.press("enter")  # straight from the results
            waterfall = app.query_one(Waterfall)
            await until(lambda: len(waterfall.rows) == 4, 5, "the waterfall")
            await pilot.press("down", "down")
            await pilot.pause()
            first = pane.summary.trace_id
            assert term.region(waterfall.region) == fresh_lines(waterfall)
            await pilot.press("escape")
            table.focus()
            await pilot.press("down", "enter")
            await until(lambda: pane.summary.trace_id != first, 5, "the second trace")
            await pilot.pause()
            assert term.region(waterfall.region) == fresh_lines(waterfall)


async def test_small_terminal_shows_span_rows(jaeger_url):
    with loopback_http(FixedAdmin) as admin:
        app = fixed_app(admin)
        app.options.jaeger_url = jaeger_url
        async with app.run_test(size=(80, 24)) as pilot:
            term = Terminal(app)
            app.go_to("traces")
            await until(lambda: "classic /api" in str(app.query_one("#traces-jaeger").render()), 5, "Jaeger")
            app.query_one("#tr-lookup", Input).value = "rid-1"
            app.query_one("#tr-lookup", Input).focus()
            await pilot.press("enter")
            waterfall = app.query_one(Waterfall)
            await until(lambda: len(waterfall.rows) == 4, 5, "the waterfall")
            await pilot.pause()
            assert waterfall.size.height - 1 >= 5, "room for at least 5 span rows"
            painted = term.region(waterfall.region)
            services = [waterfall.trace_tree.node(k).span.service for k in waterfall.rows]
            for line, service in zip(painted[1:], services, strict=False):
                assert service[:12] in line  # names are cut to the tree's column


async def test_small_terminal_forms_and_results_are_readable(jaeger_url):
    with loopback_http(FixedAdmin) as admin:
        app = fixed_app(admin)
        app.options.jaeger_url = jaeger_url
        async with app.run_test(size=(80, 24)) as pilot:
            term = Terminal(app)
            app.go_to("traces")
            await until(lambda: "classic /api" in str(app.query_one("#traces-jaeger").render()), 5, "Jaeger")
            app.query_one("#tr-service", Input).value = "webapp.istioinaction"
            app.query_one("#tr-lookback", Input).value = "15m"
            app.query_one(TracesPane).action_search()
            table = app.query_one("#traces-results", DataTable)
            await until(lambda: table.row_count == 2, 5, "two traces")
            await pilot.pause()
            form = "\n".join(term.region(app.query_one("#traces-search").region))
            assert "webapp.istioinaction" in form and "15m" in form
            lookup = "\n".join(term.region(app.query_one("#traces-lookup").region))
            assert "open" in lookup and "force-trace" in lookup
            header = term.region(table.region)[0]
            for column in ("Start", "Duration", "Spans", "Errors"):
                assert column in header
