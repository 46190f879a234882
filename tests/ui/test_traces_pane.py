"""The Traces place with Textual's Pilot: search, results, waterfall keys, span detail,
lookups; against the demo's Jaeger query service (classic API under /jaeger)."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static

from helpers.apps import FixedAdmin, fixed_app
from helpers.loopback import loopback_http
from helpers.spans import TRACE, envoy_spans
from helpers.wait import until
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.traces.pane import TracesPane
from meshtui.ui.traces.span_detail import SpanDetail
from meshtui.ui.traces.waterfall import Waterfall


def text_of(app: MeshtuiApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


async def test_search_open_navigate_and_look_up(jaeger_url):
    with loopback_http(FixedAdmin) as admin:
        app = fixed_app(admin)
        app.options.jaeger_url = jaeger_url
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.press("colon", *"traces", "enter")
            await until(lambda: app.place == "traces", 3, "the traces place")
            pane = app.query_one(TracesPane)
            await until(
                lambda: "classic /api under /jaeger" in text_of(app, "#traces-jaeger"), 5, "Jaeger found"
            )
            # a search with a bad lookback says why in one line and keeps working
            app.query_one("#tr-lookback", Input).value = "soon"
            app.query_one("#tr-service", Input).focus()
            await pilot.press(*"webapp.istioinaction", "enter")
            await until(lambda: "lookback" in text_of(app, "#traces-state"), 3, "the lookback error")
            assert "error" in app.query_one("#traces-state").classes
            assert isinstance(app.focused, Input)  # a refused search leaves the focus in the form
            app.query_one("#tr-lookback", Input).value = "15m"
            app.query_one("#tr-service", Input).focus()
            await pilot.press("enter")
            table = app.query_one("#traces-results", DataTable)
            assert app.focused is table  # enter searched: the next keys are the results'
            await until(lambda: table.row_count == 2, 5, "two traces")
            assert "2 traces (1 with errors)" in text_of(app, "#traces-state")
            # keyed rows: the same search again keeps the rows (and the cursor)
            table.focus()
            await pilot.press("down")
            await pilot.press("slash", "enter")
            await until(lambda: "sorted by start" in text_of(app, "#traces-state"), 3, "search again")
            assert table.row_count == 2 and table.cursor_row == 1
            table.focus()
            await pilot.press("home", "enter")
            waterfall = app.query_one(Waterfall)
            await until(lambda: len(waterfall.rows) == 4, 5, "the waterfall")
            assert app.focused is waterfall
            assert [waterfall.trace_tree.node(k).depth for k in waterfall.rows] == [0, 1, 2, 3]
            detail = str(app.query_one("#span-detail-text", Static).render())
            assert "istio-ingressgateway.istio-system" in detail and "guid:x-request-id" in detail
            await pilot.press("end")
            assert waterfall.node.span.service == "catalog.istioinaction"
            await pilot.press("p")  # its parent: webapp's client span
            assert waterfall.node.span.span_id == "c000000000000003"
            await until(
                lambda: (
                    "child of b000000000000002" in str(pane.query_one("#span-detail-text", Static).render())
                ),
                3,
                "detail",
            )
            await pilot.press("space")  # collapse: catalog's span is hidden
            assert len(waterfall.rows) == 3
            await pilot.press("left")  # already collapsed: go to the parent
            assert waterfall.node.span.span_id == "b000000000000002"
            await pilot.press("e")
            assert len(waterfall.rows) == 4
            await pilot.press("escape")
            assert app.query_one("#traces-body").current == "traces-results"
            # by x-request-id, then by trace id
            app.query_one("#tr-lookup", Input).focus()
            await pilot.press(*"rid-2", "enter")
            await until(lambda: pane.summary is not None and pane.summary.trace_id.endswith("2"), 5, "rid-2")
            assert pane.summary.error_count == 4 and "4 errors" in text_of(app, "#traces-title")
            app.query_one("#tr-lookup", Input).value = ""
            app.query_one("#tr-lookup", Input).focus()
            await pilot.press(*TRACE, "enter")
            await until(lambda: pane.summary.trace_id == TRACE, 5, "by trace id")
            app.query_one("#tr-lookup", Input).value = "ffffffffffffffff"
            app.query_one("#tr-lookup", Input).focus()
            await pilot.press("enter")
            await until(lambda: "Jaeger has no trace" in text_of(app, "#traces-state"), 5, "not found line")
            assert isinstance(app.query_one(SpanDetail), SpanDetail)


async def test_admin_mode_says_it_needs_a_cluster():
    with loopback_http(FixedAdmin) as admin:
        app = MeshtuiApp(Options(admin=admin, interval=3600))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("colon", *"jaeger", "enter")
            await until(lambda: app.place == "traces", 3, "traces")
            await until(lambda: "needs a Kubernetes cluster" in text_of(app, "#traces-jaeger"), 3, "the line")


async def test_from_a_pod_and_from_an_upstream_cluster(jaeger_url):
    from meshtui.ui.messages import OpenPlace

    with loopback_http(FixedAdmin) as admin:
        app = fixed_app(admin)
        app.options.jaeger_url = jaeger_url
        async with app.run_test(size=(160, 48)) as pilot:
            await until(lambda: app.pods._shown, 5, "pods")
            app.pods.table.focus()
            app.pods.table.move_to_key("istioinaction/catalog-6cf4b97d-5kkz8")
            await pilot.press("T")  # the pod's workload: Istio names its spans catalog.istioinaction
            await until(lambda: app.place == "traces", 3, "the traces place")
            table = app.query_one("#traces-results", DataTable)
            await until(lambda: table.row_count == 2, 10, "catalog's traces")
            assert app.query_one("#tr-service", Input).value == "catalog.istioinaction"
            cluster = "outbound|80||catalog.istioinaction.svc.cluster.local"
            app.post_message(OpenPlace("traces", {"upstream_cluster": cluster}))
            await until(
                lambda: f"upstream_cluster={cluster}" == app.query_one("#tr-tags", Input).value, 3, "tags"
            )
            await until(lambda: "2 traces" in text_of(app, "#traces-state"), 10, "the traces to catalog")


async def test_sort_by_duration_and_auto_refresh(jaeger_url, store, monkeypatch):
    from meshtui.ui.traces import pane as traces

    monkeypatch.setattr(traces, "AUTO_REFRESH_S", 0.2)
    with loopback_http(FixedAdmin) as admin:
        app = fixed_app(admin)
        app.options.jaeger_url = jaeger_url
        async with app.run_test(size=(160, 48)) as pilot:
            app.go_to("traces")
            await until(lambda: "classic /api" in text_of(app, "#traces-jaeger"), 5, "Jaeger found")
            app.query_one("#tr-service", Input).value = "webapp.istioinaction"
            app.query_one("#tr-lookback", Input).value = "15m"
            app.query_one(TracesPane).action_search()
            table = app.query_one("#traces-results", DataTable)
            await until(lambda: table.row_count == 2, 5, "two traces")
            table.focus()
            # a longer trace, newer: first by start, and first by duration too once sorted so
            slow = envoy_spans("0" * 31 + "3", rid="rid-3")
            slow[0]["duration"] = 900_000
            await pilot.press("a")  # auto-refresh: the new trace shows up without a key
            store.add_zipkin(slow)
            store.add_zipkin(envoy_spans("0" * 31 + "4", rid="rid-4", t0=1))  # long ago: not in 15m
            await until(lambda: table.row_count == 3, 5, "the new trace")
            await pilot.press("s")
            assert "sorted by duration" in text_of(app, "#traces-state")
            order = [str(table.coordinate_to_cell_key((r, 0)).row_key.value) for r in range(3)]
            assert order[0].endswith("3")
            durations = [app.query_one(TracesPane).found[t].summary.duration_us for t in order]
            assert durations == sorted(durations, reverse=True)
            await pilot.press("a")
            assert "auto-refresh off" in text_of(app, "#traces-state")


async def test_enter_takes_the_one_completion_and_names_the_services_meant(jaeger_url):
    """`webapp` then enter searched `webapp` (0 traces, no hint) while the box suggested
    webapp.istioinaction: enter takes the one completion, and a name Jaeger does not
    list says which it has."""
    with loopback_http(FixedAdmin) as admin:
        app = fixed_app(admin)
        app.options.jaeger_url = jaeger_url
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.press("colon", *"traces", "enter")
            await until(lambda: "classic /api" in text_of(app, "#traces-jaeger"), 5, "Jaeger found")
            box = app.query_one("#tr-service", Input)
            table = app.query_one("#traces-results", DataTable)
            box.focus()
            await pilot.press(*"webapp", "enter")
            await until(lambda: table.row_count == 2, 5, "webapp's traces")
            assert box.value == "webapp.istioinaction"
            for typed, said in (
                ("nosuch", "no service 'nosuch' in Jaeger (Jaeger lists"),
                ("istioinaction", "did you mean"),
                ("webap.istioinaction", "did you mean webapp.istioinaction?"),
            ):
                box.value = ""
                box.focus()
                await pilot.press(*typed, "enter")
                await until(lambda s=said: s in text_of(app, "#traces-state"), 3, typed)
                assert "error" in app.query_one("#traces-state").classes
                assert app.focused is box  # refused: the focus stays where the fix is typed
