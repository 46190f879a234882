"""Keys and focus as k9s and Textual users expect, driven with Pilot on the demo mesh."""

from __future__ import annotations

from textual.widgets import Input, TabbedContent

from helpers.apps import open_proxy
from helpers.mesh import pod_name
from helpers.wait import until
from meshtui.ui.app import MeshtuiApp, Options


def app_for(mesh, **kw) -> MeshtuiApp:
    return MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.3, **kw))


async def test_enter_on_a_pod_marks_it_and_focuses_its_views(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        name = pod_name(mesh, "catalog")
        key = f"istioinaction/{name}"
        await until(lambda: key in app.pods._shown, 10, "pods")
        table = app.pods.table
        table.focus()
        table.move_to_key(key)
        await pilot.press("enter")
        await until(lambda: app.focused is app.stats.table, 3, "focus on the stats table")
        assert app.pods._cells[key][0] == "▶ " + name
        others = [cells[0] for k, cells in app.pods._cells.items() if k != key]
        assert not any(c.startswith("▶") for c in others)
        # enter on the pod already shown moves the focus again, without restarting its feeds
        feed = app.stats.feed
        table.focus()
        await pilot.press("enter")
        await until(lambda: app.focused is app.stats.table, 3, "focus back on its views")
        assert app.stats.feed is feed


async def test_filter_boxes_let_go_on_escape_and_enter(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: app.stats.feed is not None, 10, "a pod shown")
        tabs = app.query_one(TabbedContent)
        views = (
            ("tab-stats", app.stats, lambda: app.stats.table),
            ("tab-clusters", app.clusters, lambda: app.clusters.table),
            ("tab-config", app.config, lambda: app.config.table),
        )
        for tab, pane, table in views:
            tabs.active = tab
            await pilot.pause()
            for leave in ("escape", "enter"):
                table().focus()
                await pilot.press("slash")
                await until(lambda: isinstance(app.focused, Input), 2, f"{tab} filter box")
                await pilot.press(leave)
                await until(lambda: not isinstance(app.focused, Input), 2, f"{tab} {leave}")
                assert app.focused is table() and pane in app.focused.ancestors
        app.pods.table.focus()
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        assert app.focused is app.pods.table
        # the Control plane's metrics filter lets go the same way (one FilterBox for all)
        await pilot.press("2")
        istiod = app.query_one("#istiod")
        for leave in ("escape", "enter"):
            await pilot.press("slash")
            await until(lambda: isinstance(app.focused, Input), 2, "istiod filter box")
            await pilot.press(leave)
            await until(lambda: not isinstance(app.focused, Input), 2, f"istiod {leave}")
            assert app.focused is istiod.metrics
        # ctrl+→ / ctrl+← move between a place's own tabs too, as between the pod tabs
        inner = istiod.query_one(TabbedContent)
        await pilot.press("ctrl+right")
        await until(lambda: inner.active == "istiod-tab-proxies", 2, "Proxy sync by ctrl+right")
        await pilot.press("ctrl+left")
        await until(lambda: inner.active == "istiod-tab-metrics", 2, "Metrics by ctrl+left")
        await until(lambda: app.focused is istiod.metrics, 2, "the metrics table focused")


async def test_invalid_regex_keeps_its_error_and_shows_no_rows(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        stats = app.stats
        await until(lambda: stats.table.rows, 10, "stats rows")
        stats.table.focus()
        await pilot.press("slash", *"re:(cluster")
        state = stats.query_one("#stats-state")
        await until(lambda: state.has_class("error"), 2, "the error")
        polls = stats.last
        await until(lambda: stats.last is not polls, 3, "a poll after the bad filter")
        await pilot.pause()
        assert state.has_class("error") and "regular expression" in str(state.render())
        assert stats.table.rows == []  # not "everything matches"
        await pilot.press(")")
        await until(lambda: stats.table.rows, 5, "rows once fixed")
        assert not state.has_class("error")
        assert all("cluster" in r for r in stats.table.rows)


async def test_sort_is_on_screen(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: app.stats.table.rows, 10, "stats rows")
        app.query_one(TabbedContent).active = "tab-clusters"
        clusters = app.clusters
        await until(lambda: clusters.table.rows, 10, "clusters")
        clusters.table.focus()
        assert "SERVICE FQDN ▲" in clusters.table.header_text(140)
        await pilot.press("o")
        assert "RQ/S ▼" in clusters.table.header_text(140)
        await pilot.press("o")
        assert "ERR/S 10s ▼" in clusters.table.header_text(140) and "ERR %" in clusters.table.header_text(140)
        app.query_one(TabbedContent).active = "tab-stats"
        app.stats.table.focus()
        await pilot.press("o")
        assert "/s ▼" in app.stats.table.header_text(140)
        assert "sort: rate" in str(app.stats.query_one("#stats-mode").render())


async def test_refresh_state_tells_paused_hidden_live(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        stats = app.stats
        await until(lambda: stats.last and stats.last.snapshot, 10, "stats")
        await until(lambda: "stats live" in app.status.refresh_state, 3, "live")
        stats.table.focus()
        await pilot.press("p")
        await until(lambda: "PAUSED" in app.status.refresh_state, 1, "paused at once")
        await pilot.press("p")
        await until(lambda: "live" in app.status.refresh_state, 3, "live again")
        app.query_one(TabbedContent).active = "tab-clusters"
        # the status line speaks for the view on screen; the hidden stats are not polled
        await until(lambda: "clusters" in app.status.refresh_state, 1, "the clusters' state at once")
        assert stats.feed is not None and stats.feed.paused
        await until(lambda: "clusters live" in app.status.refresh_state, 3, "clusters live")
        app.query_one(TabbedContent).active = "tab-stats"
        await until(lambda: "live" in app.status.refresh_state, 3, "live when shown")


async def test_proxy_find_and_cursor_kept(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_proxy(app, pilot, mesh)
        proxy = app.proxy
        await pilot.press("slash", *"upstr")
        await until(lambda: proxy.current == "upstream", 2, "the cursor on the logger found")
        await pilot.press("enter")
        await until(lambda: app.focused is proxy.table, 2, "back on the table")
        # a refresh (as after a change) refills the table: the cursor stays on its logger
        proxy._show_levels()  # what follows every change and every `r`: clear and refill
        await pilot.pause()
        assert proxy.current == "upstream"


async def test_tabs_switch_from_anywhere_and_help_says_how(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: app.stats.feed is not None, 10, "a pod shown")
        tabs = app.query_one(TabbedContent)
        app.pods.table.focus()  # from the pods list, not the tab strip
        await pilot.press("ctrl+right")
        await until(lambda: tabs.active == "tab-clusters", 2, "the clusters tab")
        assert app.focused is app.clusters.table  # its table takes the keys
        await pilot.press("ctrl+right", "ctrl+right", "ctrl+right")
        await until(lambda: tabs.active == "tab-stats", 2, "round to the stats tab")
        await pilot.press("ctrl+left")
        await until(lambda: tabs.active == "tab-proxy", 2, "back to the proxy tab")
        await pilot.press("question_mark")
        await until(lambda: hasattr(app.screen, "rows"), 3, "help")
        rows = app.screen.rows
        assert any(
            "ctrl" in key and "Next tab" in what and where == "everywhere" for key, what, where in rows
        )


# Textual's generic wording: what the help must not show (meshtui says what a key does here)
GENERIC = (
    "Cursor up",
    "Cursor down",
    "Focus Next",
    "Copy selected text",
    "command_palette",
    "Scroll Left",
    "Select",
)


async def test_help_lists_the_apps_own_keys_for_where_you_are(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: app.stats.feed is not None, 10, "a pod shown")
        app.pods.table.focus()
        own = {
            "Pods": "Filter pods",
            "Clusters": "Sort clusters",  # ctrl+right from the pods list: the tab after Stats
            "Config": "Next section",
            "Proxy": "Change the selected logger's level",
            "Stats": "Pause or resume",
        }
        for where, expected in own.items():
            if where != "Pods":
                await pilot.press("ctrl+right")
                await pilot.pause()
            await pilot.press("question_mark")
            await until(lambda: hasattr(app.screen, "rows"), 3, f"help on {where}")
            rows = app.screen.rows
            await pilot.press("escape")
            await until(lambda: not hasattr(app.screen, "rows"), 3, "help closed")
            assert any(w == where and expected in what for _, what, w in rows), (where, rows)
            assert not [r for r in rows if r[1] in GENERIC or "super+" in r[0]], (where, rows)
            assert not [r for r in rows if r[2] not in ("everywhere", where)], (where, rows)
            if where == "Proxy":  # enter on a logger changes its level: said so, in the pane's words
                assert ("enter", "Change the selected logger's level (asks first)", "Proxy") in rows
            if where == "Pods":  # the list's main key is in its help too
                assert (
                    "enter",
                    "Show this pod's proxy views (Stats, Clusters, Config, Proxy)",
                    "Pods",
                ) in rows
        # no second, generic command palette beside `:` (Textual's ^p in the footer)
        footer = app.screen._compositor.render_strips()[-1].text
        assert "Go to" in footer and "^p" not in footer


async def test_j_and_k_move_the_row_tables_as_in_k9s(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: len(app.pods._shown) >= 3, 10, "pods")
        pods = app.pods.table
        pods.focus()
        pods.action_jump(0)
        await pilot.press("j", "j")
        assert pods.cursor == 2
        await pilot.press("k")
        assert pods.cursor == 1
        await open_proxy(app, pilot, mesh)  # the loggers table, focused on "router"
        loggers = app.proxy.table
        row = loggers.cursor_row
        await pilot.press("j")
        assert loggers.cursor_row == row + 1
        await pilot.press("k", "k")
        assert loggers.cursor_row == row - 1


async def test_a_colon_jump_gives_the_keys_to_the_table_not_the_filter_box(mesh):
    """`:stats` then `p` pauses; it does not replace the filter with `p` (nor does `/`
    land in it as text): a single-key command never lands in a text box by itself."""
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: app.stats.feed is not None, 10, "a pod shown")
        box = app.stats.query_one("#stats-filter", Input)
        app.stats.show_filter("cluster.inbound|8080||.upstream_rq_")
        await pilot.pause()
        app.pods.table.focus()
        await pilot.press("colon", *"stats", "enter")
        await until(lambda: app.focused is app.stats.table, 3, "the stats table focused")
        await pilot.press("p")
        assert box.value == "cluster.inbound|8080||.upstream_rq_"
        assert app.stats.user_paused
