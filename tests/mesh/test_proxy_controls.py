"""Log levels and reset counters on the demo's real Envoy: asked first, reverted, refused read-only."""

from __future__ import annotations

import httpx
import pytest
from textual.widgets import TabbedContent

from helpers.apps import open_proxy
from helpers.wait import until
from meshtui.envoy.controls import parse_loggers
from meshtui.envoy.filter import re2_escape
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.events.pane import EventsPane
from meshtui.ui.screens.confirm import ChoiceScreen, ConfirmScreen


def levels(admin_url: str) -> dict[str, str]:
    return parse_loggers(httpx.post(admin_url + "/logging").text)


def counter(admin_url: str, name: str) -> int:
    text = httpx.get(admin_url + "/stats", params={"filter": f"^{re2_escape(name)}$"}).text
    return int(text.split(": ")[1])


async def test_log_level_applied_then_reverted_on_exit(mesh):
    admin = mesh.info["admin"]["catalog"]
    before = levels(admin)["router"]
    target = "debug" if before != "debug" else "trace"
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.5))
    async with app.run_test(size=(160, 48)) as pilot:
        await open_proxy(app, pilot, mesh)
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, ChoiceScreen), 3, "level chooser")
        options = app.screen.query_one("OptionList")
        options.highlighted = list(app.screen.choices).index(target)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ConfirmScreen), 3, "confirmation")
        assert levels(admin)["router"] == before  # nothing happens before the answer
        await pilot.press("y")
        await until(lambda: levels(admin)["router"] == target, 5, "level applied on the real Envoy")
        await until(lambda: app.proxy.levels.get("router") == target, 5, "shown")
        events = app.query_one(EventsPane)  # the change is in the timeline, with what changed
        await until(lambda: any(f"router={target}" in e.summary for e in events.log_), 3, "the timeline")
        await app.action_quit()
    assert levels(admin)["router"] == before  # put back when meshtui exits


async def test_read_only_refuses_both_controls(mesh):
    admin = mesh.info["admin"]["catalog"]
    before = levels(admin)
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.5, read_only=True))
    async with app.run_test(size=(160, 48)) as pilot:
        await open_proxy(app, pilot, mesh)
        total = counter(admin, "http.admin.downstream_rq_total")
        for key in ("l", "a", "R"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, (ChoiceScreen, ConfirmScreen))
            assert "read-only" in str(app.proxy.query_one("#proxy-state").render())
        assert "read-only" in str(app.proxy.query_one("#proxy-policy").render())
    assert levels(admin) == before
    assert counter(admin, "http.admin.downstream_rq_total") >= total  # never reset


async def test_reset_counters_no_negative_rate(mesh):
    admin = mesh.info["admin"]["catalog"]
    name = "cluster.inbound|3000||.upstream_rq_total"
    await until(lambda: counter(admin, name) > 10, 20, "some traffic first")
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.3, stats_filter="cluster.inbound"))
    async with app.run_test(size=(160, 48)) as pilot:
        await open_proxy(app, pilot, mesh)
        stats = app.stats
        await until(lambda: stats.table.snapshot and name in stats.table.snapshot.values, 10, "stats polled")
        high = int(stats.table.snapshot.values[name])
        await pilot.press("R")
        await until(lambda: isinstance(app.screen, ConfirmScreen), 3, "confirmation")
        await pilot.press("y")
        await until(lambda: counter(admin, name) < high, 5, "counters reset on the real Envoy")
        assert counter(admin, name) < 10  # back near zero
        app.query_one(TabbedContent).active = "tab-stats"  # the hidden stats pane polls again once shown

        def reset_seen() -> bool:  # every snapshot on the way: no negative rate, ever
            snap = stats.table.snapshot
            assert all(rate >= 0 for rate in snap.rates.values())
            return name in snap.resets

        # the drop is marked, not shown as a negative rate (a busy machine may take a while)
        await until(reset_seen, 15, "the reset marked in the stats pane")


async def test_the_admin_client_itself_refuses_changes_unless_made_to_change(mesh):
    """--read-only is enforced where the calls are made (envoy/admin.py), not only by the
    Proxy tab's keys: an admin client is read-only unless created to change a proxy."""
    from meshtui.envoy.admin import EnvoyAdmin, ReadOnlyError
    from meshtui.envoy.controls import log_levels, reset_counters, set_log_levels

    url = mesh.info["admin"]["catalog"]
    reader = EnvoyAdmin(url)
    try:
        before = await log_levels(reader)  # a read, although Envoy wants a POST for it
        assert before.get("admin")
        with pytest.raises(ReadOnlyError, match="--read-only"):
            await set_log_levels(reader, {"admin": "debug"})
        with pytest.raises(ReadOnlyError):
            await reset_counters(reader)
        assert await log_levels(reader) == before  # nothing reached the proxy
    finally:
        await reader.aclose()
    writer = EnvoyAdmin(url, read_only=False)
    try:
        assert (await set_log_levels(writer, {"admin": before["admin"]}))["admin"] == before["admin"]
    finally:
        await writer.aclose()


async def test_find_says_when_no_logger_matches(mesh):
    """`/` in the Proxy tab: a name that matches nothing is said in the state line (not only
    coloured), the cursor stays on the last logger found, and escape brings the summary back."""
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.5))
    async with app.run_test(size=(160, 48)) as pilot:
        await open_proxy(app, pilot, mesh)
        state = app.proxy.query_one("#proxy-state")
        await pilot.press("slash", *"upstr")
        await until(
            lambda: app.proxy.table.cursor_row == app.proxy.table.get_row_index("upstream"), 3, "found"
        )
        await pilot.press(*"zzz")
        await until(lambda: "no logger matches 'upstrzzz'" in str(state.render()), 3, "the miss said")
        assert app.proxy.table.cursor_row == app.proxy.table.get_row_index("upstream")
        await pilot.press("escape")
        await until(lambda: "loggers on" in str(state.render()), 3, "the summary back")
