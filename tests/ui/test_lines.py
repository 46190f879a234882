"""The one-line texts at 80 columns: the status line puts state before detail, and a
state line's error keeps its cause (the end of the chain) when it is too long."""

from __future__ import annotations

from textual.app import App, ComposeResult

from meshtui.kube.forward_status import ForwardState, ForwardStatus
from meshtui.ui.export import screen_lines
from meshtui.ui.widgets.state_line import StateLine, keep_both_ends
from meshtui.ui.widgets.status import StatusLine

REFUSED = (
    "kubelet: error forwarding port 15000 to pod 5c1f, uid : failed to execute portforward in "
    "network namespace: failed to connect to localhost:15000 inside namespace: connection refused"
)


class Lines(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield StateLine(id="state")


async def test_the_status_line_says_the_state_and_the_failure_before_the_detail():
    app = Lines()
    async with app.run_test(size=(80, 6)) as pilot:
        status = app.query_one(StatusLine)
        status.set(
            context="kind-istio-demo",
            namespace="istioinaction",
            refresh_state="stats stale since 10:12:21, retrying (3)",
            forwards=(
                ForwardStatus("istioinaction", "catalog-6cf4b97d-5kkz8", 15000, 37909, ForwardState.UP),
                ForwardStatus(
                    "istioinaction",
                    "webapp-7685bcb84-hxpqj",
                    15000,
                    0,
                    ForwardState.FAILED,
                    "connection refused",
                ),
            ),
        )
        await pilot.pause()
        line = screen_lines(app)[0]
        # at 80 columns the refresh state and the failed forward with its reason are seen;
        # the context (known from the start) is what the edge cuts
        assert line.lstrip().startswith("stats stale since 10:12:21"), line
        assert "fwd webapp-76…-hxpqj:15000 failed" in line, line
        plain = status.render_text().plain
        assert plain.index("stale") < plain.index("fwd") < plain.index("ctx kind-istio-demo")


async def test_forwards_that_do_not_fit_are_counted_not_cut_after_a_comma():
    app = Lines()
    async with app.run_test(size=(80, 6)) as pilot:
        status = app.query_one(StatusLine)
        ups = [
            ForwardStatus("istioinaction", "webapp-7685bcb84-hxpqj", 15000, 43457, ForwardState.UP),
            ForwardStatus("istio-system", "istiod-7d4f5d6c9-x8kqn", 15014, 42761, ForwardState.UP),
            ForwardStatus("istio-system", "jaeger-76cd7c7566-4x9kd", 16686, 40111, ForwardState.UP),
        ]
        status.set(context="meshtui-demo", refresh_state="istiod live every 1s", forwards=tuple(ups))
        await pilot.pause()
        line = screen_lines(app)[0].rstrip()
        assert "fwd webapp-76…-hxpqj:15000→:43457 up" in line, line
        assert "43457 up +2 more" in line and "," not in line, line  # not `up, istiod-7d…` cut
        assert len(line) <= 80


async def test_a_long_error_keeps_its_cause_on_screen():
    app = Lines()
    async with app.run_test(size=(80, 6)) as pilot:
        state = app.query_one(StateLine)
        text = f"stale since 10:12:21: port-forward webapp-7685bcb84-hxpqj:15000 failed: {REFUSED}, retrying"
        state.say(text, error=True)
        await pilot.pause()
        # wrapped over up to three lines (a word wrap moves the lines below), start and cause in
        shown = " ".join(line.strip() for line in screen_lines(app)[1:4])
        assert shown.startswith("stale since 10:12:21: port-forward webap"), shown
        assert shown.endswith("connection refused, retrying"), shown
        assert "…" in shown and app.query_one(StateLine).region.height == 3
        assert state.text == text  # the whole text is kept (copy, export); the screen shortens it
        state.say("stale since 10:12:21: webapp's Envoy is not answering (connection refused)", error=True)
        await pilot.pause()
        assert "(connection refused)" in screen_lines(app)[1] and state.region.height == 1
        # not an error: the usual end-cut (a count's start is what matters)
        state.say("678 of 678 stats from catalog-6cf4b97d-5kkz8:15000 " + "x" * 80)
        await pilot.pause()
        assert screen_lines(app)[1].lstrip().startswith("678 of 678 stats")
        assert app.query_one(StateLine).region.height == 1  # back to one line


def test_keep_both_ends():
    out = keep_both_ends("a" * 50 + "THE CAUSE", 30)
    assert len(out) == 30 and out.endswith("THE CAUSE") and "…" in out


async def test_every_views_footer_keeps_help_and_quit_at_80_columns():
    """The Proxy tab's footer ended `R Reset counters  r Refres` at 80 columns: ? and q
    pushed off. Every view's own keys leave room for them (the rest are in ?)."""
    from helpers.apps import FixedAdmin, fixed_app
    from helpers.loopback import loopback_http
    from helpers.wait import until

    with loopback_http(FixedAdmin) as admin:
        app = fixed_app(admin)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(lambda: app.stats.table.rows, 10, "the stats")
            for step in ("stats", "clusters", "config", "proxy"):
                if step != "stats":
                    await pilot.press("ctrl+right")
                await until(
                    lambda s=step: app.shown_view() and s in type(app.shown_view()).__name__.lower(), 3, step
                )
                app._focus_views()
                await pilot.pause()
                footer = screen_lines(app)[-1]
                assert "? Help" in footer and "q Quit" in footer, (step, footer)
