"""The Load place by keys only: `4` opens it, `/` edits the target, enter starts, figures
come each second, `+` raises the rate, the run goes on while another place is shown, `s`
stops; at 160x48 and 80x24, against a loopback server counting what it gets."""

from __future__ import annotations

import collections
import threading

import pytest
from textual.widgets import Input

from helpers.apps import FixedAdmin, fixed_app
from helpers.loopback import Answering, loopback_http
from helpers.wait import until
from meshtui.ui.events.pane import EventsPane
from meshtui.ui.load.pane import LoadFigures, LoadPane


class Counting(Answering):
    """200 to /ok, 503 to /fail; counts each answer by path and Host."""

    seen: collections.Counter[tuple[str, str]] = collections.Counter()
    lock = threading.Lock()

    def do_GET(self) -> None:
        with Counting.lock:
            Counting.seen[(self.path, self.headers.get("Host", ""))] += 1
        code = 503 if self.path.startswith("/fail") else 200
        self.answer(code)


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_the_load_place_by_keys(size):
    Counting.seen.clear()
    with loopback_http(FixedAdmin) as admin, loopback_http(Counting) as target:
        app = fixed_app(admin)
        async with app.run_test(size=size) as pilot:
            await pilot.press("4")
            await until(lambda: app.place == "load", 5, "the Load place")
            pane = app.query_one(LoadPane)
            figures = pane.query_one(LoadFigures)
            assert "sent -" in str(figures.render())  # before a run: the figures' shape, dashed
            assert app.status.refresh_state == "load idle (s starts)"
            await pilot.press("slash")
            await until(lambda: app.focused is pane.query_one("#load-target"), 3, "the target box")
            box = pane.query_one("#load-target", Input)
            box.value = ""
            await pilot.press(*f"{target}/fail")
            pane.query_one("#load-rate", Input).value = "20"
            pane.query_one("#load-trace", Input).value = "100"
            await pilot.press("enter")
            await until(lambda: pane.last is not None and pane.last.sent >= 20, 5, "a second of load")
            text = str(figures.render())
            assert "running" in text and "503:" in text and "5xx:" in text, text
            await until(
                lambda: app.status.refresh_state.startswith("load 20/s running"), 3, "the status line"
            )
            assert app.focused is figures  # enter handed the keys back to the place
            assert "force-traced" in text and all(t.request_id for t in pane.last.traced)

            await pilot.press("plus")
            await until(lambda: pane.generator is not None and pane.generator.rate == 25, 3, "rate +")
            assert pane.query_one("#load-rate", Input).value == "25"

            await pilot.press("1")  # another place: the run goes on
            await until(lambda: app.place == "proxies", 3, "the Proxies place")
            sent = pane.last.sent
            await until(lambda: pane.last.sent >= sent + 20, 5, "the load while away")
            # the status line says it goes on, beside what the place on screen says
            await until(
                lambda: "load 25/s running" in app.status.refresh_state, 3, "the run in the status line"
            )
            await pilot.press("4")
            await until(lambda: app.place == "load", 3, "back")
            pane.query_one(LoadFigures).focus()
            await pilot.press("s")
            await until(
                lambda: pane.generator is None and pane.last is not None and not pane.last.running,
                10,
                "stopped",
            )
            final = pane.last
            assert Counting.seen[("/fail", "")] == 0  # no Host given: the URL's, not an empty one
            assert sum(n for (path, _), n in Counting.seen.items() if path == "/fail") == final.completed
            assert final.codes == {503: final.completed} and final.errors.get("dropped", 0) == 0
            assert "stopped" in str(figures.render())
            await until(lambda: app.status.refresh_state == "load stopped (s starts)", 3, "the status line")
            # meshtui's own actions are in the Events place's timeline
            events = app.query_one(EventsPane)
            await until(lambda: any("load stopped" in e.summary for e in events.log_), 3, "the timeline")
            said = [e.summary for e in events.log_ if e.kind == "meshtui"]
            assert said[0].startswith("load started: 20/s to http://127.0.0.1:") and said[1].startswith(
                f"load stopped after {final.elapsed:.0f} s: {final.sent} sent"
            )
            # the last force-traced request, in Traces (no Jaeger here: that place says so)
            await pilot.press("t")
            await until(lambda: app.place == "traces", 5, "the Traces place")


async def test_a_bad_form_says_what_is_wrong_in_one_line():
    with loopback_http(FixedAdmin) as admin:
        app = fixed_app(admin)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("4")
            await until(lambda: app.place == "load", 5, "the Load place")
            pane = app.query_one(LoadPane)
            pane.query_one("#load-rate", Input).value = "fast"
            pane.query_one(LoadFigures).focus()
            await pilot.press("s")
            state = pane.query_one("#load-state")
            await until(lambda: state.has_class("error"), 3, "the rate refused")
            assert "rate 'fast'" in str(state.render())
            pane.query_one("#load-rate", Input).value = "5"
            await pilot.press("s")  # a path through a Service needs a cluster: none in this app
            await until(lambda: "--to needs a Kubernetes cluster" in str(state.render()), 3, "no cluster")
            assert pane.generator is None
