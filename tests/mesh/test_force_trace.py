"""Force-trace in the Traces place against the demo mesh of real Envoys: the request's
trace is found by its x-request-id and shown; with --broken-tracing catalog the trace
lacks catalog's spans and the pane says why (the sidecar's tracing health)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Static

from helpers.wait import until
from meshtui.demo.run import MeshProcess, start_mesh
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.export import screen_lines
from meshtui.ui.traces.pane import TracesPane
from meshtui.ui.traces.waterfall import Waterfall

GATEWAY, WEBAPP, CATALOG = (
    "istio-ingressgateway.istio-system",
    "webapp.istioinaction",
    "catalog.istioinaction",
)


@pytest.fixture(scope="module")
def healthy_mesh() -> Iterator[MeshProcess]:
    """A second demo mesh whose every sidecar reports its spans (sampling stays at 10%)."""
    with start_mesh(rate=2.0) as m:
        yield m


async def force_trace(mesh: MeshProcess, size: tuple[int, int] = (160, 48)) -> tuple[TracesPane, str, str]:
    """(the pane, its state line, the screen as text once the trace is shown)"""
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=5))
    async with app.run_test(size=size) as pilot:
        await pilot.press("colon", *"traces", "enter")
        await until(lambda: app.place == "traces", 5, "the traces place")
        jaeger = app.query_one("#traces-jaeger", Static)
        await until(
            lambda: "classic /api under /jaeger" in str(jaeger.render()), 20, "Jaeger through a forward"
        )
        assert "istio-system/tracing -> pod jaeger-" in str(jaeger.render())
        pane = app.query_one(TracesPane)
        await pilot.press(
            "f"
        )  # defaults: /api/catalog through the ingress gateway, Host webapp.istioinaction.io
        state = app.query_one("#traces-state", Static)
        try:
            await until(lambda: "s left" in str(state.render()), 20, "the countdown")
            await until(lambda: pane.summary is not None, 45, "the forced trace")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the pane says: {state.render()}") from None
        # Textual moves the focus on its next turn, after the trace is drawn
        await until(lambda: app.focused is app.query_one(Waterfall), 3, "the waterfall focused")
        await pilot.pause()
        # the state's whole text (the screen may shorten a long one in its middle)
        return (
            pane,
            str(getattr(state, "text", state.render())),
            " ".join(x.strip() for x in screen_lines(app)),
        )


async def test_force_trace_shows_gateway_webapp_catalog(healthy_mesh):
    pane, state, _ = await force_trace(healthy_mesh)
    rid = pane.forced.request_id
    assert pane.forced.status in (200, 500, 502)
    spans = [n.span for n in pane.trace_tree.nodes]
    assert len(spans) >= 3
    assert {GATEWAY, WEBAPP, CATALOG} <= {s.service for s in spans}
    assert all(s.tag("guid:x-request-id") == rid for s in spans)
    assert f"forced x-request-id {rid}" in state and "no spans from" not in state
    # gateway -> webapp -> catalog, each hop below the one that called it
    depth = {s.service: n.depth for n, s in zip(pane.trace_tree.nodes, spans, strict=True)}
    assert depth[GATEWAY] < depth[WEBAPP] < depth[CATALOG]


async def test_force_trace_with_broken_catalog_tracing_says_why(mesh):
    # the session mesh runs --broken-tracing catalog; at 80x24, where the cause was cut
    pane, state, screen = await force_trace(mesh, (80, 24))
    rid = pane.forced.request_id
    spans = [n.span for n in pane.trace_tree.nodes]
    assert {GATEWAY, WEBAPP} <= {s.service for s in spans} and CATALOG not in {s.service for s in spans}
    assert all(s.tag("guid:x-request-id") == rid for s in spans)
    assert f"no spans from {CATALOG}" in state
    assert "/zipkin/api/v1/spans" in state  # why: the tracing health of catalog's sidecar
    # on screen at 80x24 too: the error wraps, and a line too long keeps its end (the cause)
    assert "is not Zipkin's /api/v2/spans" in screen, screen


async def test_headless_traces_and_trace_through_the_port_forward(mesh, capsys):
    """`meshtui traces --service` and `meshtui trace ID` find the tracing service, forward
    16686 and read the real Envoys' spans (10% sampling of the load loop)."""
    import asyncio
    import json

    from meshtui.cli import main

    argv = ["traces", "--kubeconfig", mesh.kubeconfig, "--service", GATEWAY, "--lookback", "15m", "--json"]
    found: list[dict] = []
    for _ in range(40):
        assert await asyncio.to_thread(main, argv) == 0
        found = json.loads(capsys.readouterr().out)
        if found:
            break
        await asyncio.sleep(1)
    assert found and found[0]["rootService"] == GATEWAY
    tid = found[0]["traceID"]
    assert await asyncio.to_thread(main, ["trace", tid, "--kubeconfig", mesh.kubeconfig]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"trace {tid}") and f"{GATEWAY}: " in lines[2]
    assert (
        await asyncio.to_thread(
            main, ["trace", tid, "--kubeconfig", mesh.kubeconfig, "--jaeger-service", "istio-system/nope"]
        )
        == 2
    )
    assert "cannot read service istio-system/nope: not found (404)" in capsys.readouterr().err


def test_demo_sampling_flag():
    from meshtui.cli import build_parser

    assert build_parser().parse_args(["demo"]).sampling == 10.0
    assert build_parser().parse_args(["demo", "--sampling", "100"]).sampling == 100.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--sampling", "150"])
