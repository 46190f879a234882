"""The app, driven with Textual's Pilot against the demo mesh (real Envoys)."""

from __future__ import annotations

import asyncio

from textual.widgets import Input

from helpers.mesh import pod_name, select_pod, sim
from helpers.wait import until
from meshtui.demo.mesh import kubeconfig_yaml
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.screens.help import HelpScreen

CATALOG_PREFIX = "cluster.outbound|80||catalog.istioinaction.svc.cluster.local"
RQ_TOTAL = CATALOG_PREFIX + ".upstream_rq_total"


def app_for(mesh, **kw) -> MeshtuiApp:
    return MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.3, **kw))


async def test_select_filter_and_see_a_rate(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        name = await select_pod(app, pilot, "webapp", mesh)
        stats = app.stats
        await until(lambda: stats.table.rows, 10, "stats rows")
        assert stats.endpoint_label == f"{name}:15000"
        stats.table.focus()
        await pilot.press("slash")
        await pilot.press(*"cluster.outbound|80||catalog")
        rows = await until(lambda: stats.table.rows if stats.table.filter.text else None, 5, "filter")
        assert all(r.startswith("cluster.outbound|80||catalog") for r in rows)
        # filtered here, over every name the poll knows: all the matching stats and only them
        snap = stats.table.snapshot
        assert rows == [n for n in snap.names if n.startswith("cluster.outbound|80||catalog")]
        assert len(snap.names) > len(rows) and snap.in_use is not None and len(snap.in_use) < len(snap.names)
        await until(lambda: stats.table.snapshot.rates.get(RQ_TOTAL, 0) > 0, 15, "upstream_rq_total rate > 0")
        assert stats.table.snapshot.kind(RQ_TOTAL) == "counter"
        status = str(app.status.render_text())
        assert f"{name}:15000" in status and "up" in status


async def test_broken_forward_recovers(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(120, 40)) as pilot:
        await select_pod(app, pilot, "catalog", mesh)
        stats = app.stats
        await until(lambda: stats.last and stats.last.snapshot, 10, "first stats")
        for _ in range(3):
            before = stats.last
            sim(mesh, "/_sim/drop-forwards")
            await until(lambda b=before: stats.last is not b and stats.last.snapshot, 3, "recovered stats")
        assert "Traceback" not in str(app.screen)


async def test_help_screen_lists_live_bindings(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: app.pods._shown, 10, "pods")
        app.stats.table.focus()
        await pilot.press("question_mark")
        await until(lambda: isinstance(app.screen, HelpScreen), 3, "help screen")
        rows = app.screen.rows
        whats = {what for _, what, _ in rows}
        assert any("Sort by name" in w for w in whats)
        assert any("Pause" in w for w in whats)
        assert any("q" in key.split(", ") and where == "everywhere" for key, _, where in rows)
        assert not any("Scroll Left" in w for w in whats)
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, HelpScreen), 3, "help closed")


async def test_sort_and_pause(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(120, 40)) as pilot:
        await select_pod(app, pilot, "webapp", mesh)
        stats = app.stats
        await until(lambda: stats.table.snapshot and stats.table.snapshot.rates, 10, "moving counters")
        stats.table.focus()
        await pilot.press("o")
        assert stats.table.sort == "rate"
        await until(lambda: stats.table.rows[0] in stats.table.snapshot.rates, 5, "moving stats first")
        await pilot.press("o")
        assert stats.table.sort == "value"

        def biggest_first() -> bool:
            values = [
                float(stats.table.snapshot.values[n])
                for n in stats.table.rows[:5]
                if stats.table.snapshot.values[n][:1].isdigit()
            ]
            return values == sorted(values, reverse=True) and len(values) >= 2

        await until(biggest_first, 5, "largest values first")
        await pilot.press("o")
        assert stats.table.sort == "name"
        await pilot.press("p")
        assert stats.user_paused and stats.feed.paused
        frozen = stats.last
        await asyncio.sleep(1.0)  # a paused feed must not poll; 1 s is > 3 intervals
        assert stats.last is frozen
        await pilot.press("p")
        await until(lambda: stats.last is not frozen, 3, "resumed")


async def test_sidecars_only_and_pod_filter(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: len(app.pods._shown) >= 4, 10, "pods")
        istiod = next(k for k in app.pods._shown if "istiod" in k)
        app.pods.table.focus()
        await pilot.press("s")
        await until(lambda: istiod not in app.pods._shown, 3, "istiod hidden")
        assert all(p.sidecar for p in app.pods._shown.values())
        await pilot.press("s")
        await until(lambda: istiod in app.pods._shown, 3, "istiod back")
        await pilot.press("slash", *"catalog", "enter")
        await until(
            lambda: list(app.pods._shown) == [f"istioinaction/{pod_name(mesh, 'catalog')}"], 3, "filtered"
        )


async def test_rollout_restart_is_followed(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)) as pilot:
        old = await select_pod(app, pilot, "catalog", mesh)
        await until(lambda: app.stats.last and app.stats.last.snapshot, 10, "stats")
        new = sim(mesh, "/_sim/restart/istioinaction/catalog")["name"]
        await until(lambda: app.pods.selected.name == new, 10, "selection follows the new pod")
        await until(
            lambda: app.stats.endpoint_label == f"{new}:15000" and app.stats.last and app.stats.last.snapshot,
            10,
            "stats from the new pod",
        )
        await until(lambda: all(s.pod != old for s in app.manager.statuses()), 5, "old forward closed")


async def test_api_server_problems_are_one_line_and_heal(mesh):
    app = app_for(mesh)
    async with app.run_test(size=(160, 48)):
        await until(lambda: app.pods._shown, 10, "pods")
        try:
            sim(mesh, "/_sim/auth/forbidden")
            sim(mesh, "/_sim/watch/end")  # as at the watch's timeout: the re-list meets the 403
            await until(lambda: app.status.problem and "RBAC denied" in app.status.problem, 10, "RBAC line")
            assert "\n" not in app.status.problem
        finally:
            sim(mesh, "/_sim/auth/ok")
        await until(lambda: app.status.problem is None, 15, "problem cleared after retry")


async def test_missing_kubeconfig_and_unreachable_server(tmp_path):
    app = MeshtuiApp(Options(kubeconfig=str(tmp_path / "nope")))
    async with app.run_test(size=(100, 30)):
        await until(lambda: app.status.problem, 5, "problem line")
        assert "no kubeconfig" in app.status.problem
    kc = tmp_path / "kc"
    kc.write_text(kubeconfig_yaml("http://127.0.0.1:9", "token"))
    app = MeshtuiApp(Options(kubeconfig=str(kc)))
    async with app.run_test(size=(100, 30)):
        await until(lambda: app.status.problem, 10, "problem line")
        assert "unreachable" in app.status.problem and "token" not in app.status.problem


async def test_admin_mode_without_kubernetes(mesh):
    app = MeshtuiApp(Options(admin=mesh.info["admin"]["webapp"], interval=0.3))
    async with app.run_test(size=(120, 40)):
        await until(lambda: app.stats.table.rows, 10, "stats rows")
        assert not app.pods.display
    app = MeshtuiApp(Options(admin="http://127.0.0.1:9", interval=0.3))
    async with app.run_test(size=(120, 40)):
        await until(lambda: app.stats.last and app.stats.last.error, 5, "error")
        assert "cannot connect" in app.stats.last.error


async def test_start_with_a_filter(mesh):
    app = MeshtuiApp(Options(admin=mesh.info["admin"]["webapp"], interval=0.3, stats_filter=CATALOG_PREFIX))
    async with app.run_test(size=(120, 40)):
        rows = await until(lambda: app.stats.table.rows, 10, "stats rows")
        assert all(r.startswith(CATALOG_PREFIX) for r in rows)
        snap = app.stats.table.snapshot
        assert rows == [n for n in snap.names if n.startswith(CATALOG_PREFIX)]  # all of them
        assert app.stats.query_one("#stats-filter", Input).value == CATALOG_PREFIX


async def test_namespace_flag_limits_the_pods(mesh):
    app = app_for(mesh, namespace="istio-system")
    async with app.run_test(size=(160, 48)):
        await until(lambda: len(app.pods._shown) >= 2, 10, "pods")
        assert all(key.startswith("istio-system/") for key in app.pods._shown)
        assert app.status.namespace == "istio-system"
        # the gateway is the only sidecar there: it is picked
        await until(lambda: app.pods.selected and app.pods.selected.is_gateway, 5, "gateway selected")
