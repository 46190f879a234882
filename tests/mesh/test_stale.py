"""Stale is visible: when a view's source stops answering, nothing it shows looks live.

The rule (meshtui/live.py), the feed that applies it (envoy/live.py) and the panes
that show it, against the demo's real Envoys: one killed (and restarted by the demo's
kubelet), one cut off behind a loopback relay and brought back.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from textual.widgets import TabbedContent

from helpers.mesh import descendants, envoys, select_pod
from helpers.relay import relay_to
from helpers.wait import until
from meshtui.demo.run import start_mesh
from meshtui.live import FreshnessTracker
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.proxies.messages import PodsChanged, StatsUpdated
from meshtui.ui.proxies.pods_table import SIDECAR_DOWN

RQ_TOTAL = "cluster.outbound|80||catalog.istioinaction.svc.cluster.local.upstream_rq_total"


def test_freshness_rule():
    now = [1000.0]
    t = FreshnessTracker(clock=lambda: now[0])
    assert not t.current.stale and not t.current.rates_ready
    t.succeeded()
    assert not t.current.rates_ready  # one poll: no rate yet
    assert t.succeeded().rates_ready
    first = t.failed("webapp's Envoy is not answering")
    now[0] += 5
    second = t.failed("still not")
    assert first.stale and second.stale_since == first.stale_since == 1000.0 and second.failures == 2
    assert second.state_line().startswith(f"stale since {time.strftime('%H:%M:%S', time.localtime(1000))}: ")
    assert second.state_line().endswith("still not, retrying")
    back = t.succeeded()
    assert not back.stale and not back.rates_ready  # one answer after the gap: no rate across it
    assert t.succeeded().rates_ready


async def test_cut_source_goes_stale_and_rates_restart_after_two_polls(mesh):
    """`--admin` through a relay to the demo's webapp Envoy: cut it, bring it back."""
    async with relay_to(mesh.info["admin"]["webapp"]) as (relay, url):
        seen: list[StatsUpdated] = []
        app = MeshtuiApp(Options(admin=url, interval=0.3, stats_filter="cluster.outbound|80||catalog"))

        def hook(message: object) -> None:
            if isinstance(message, StatsUpdated):
                seen.append(message)

        async with app.run_test(size=(160, 48), message_hook=hook) as pilot:
            stats = app.stats
            await until(
                lambda: stats.table.snapshot and stats.table.snapshot.rates.get(RQ_TOTAL), 15, "a rate"
            )
            await relay.cut()
            cut_at = time.monotonic()
            await until(lambda: stats.last and stats.last.freshness.stale, 2 * 0.3 + 2, "stale")
            assert time.monotonic() - cut_at < 2 * 0.3 + 2
            await pilot.pause()
            # the last values stay, dimmed; no rate, no change; the state says since when and why
            assert stats.table.snapshot is not None and RQ_TOTAL in stats.table.snapshot.values
            assert not stats.table.snapshot.rates and not stats.table.snapshot.deltas
            assert stats.table.has_class("stale")
            state = str(stats.query_one("#stats-state").render())
            assert state.startswith("stale since ") and state.endswith(", retrying"), state
            assert "stale since" in str(app.status.render_text())
            line = next(i for i, k in enumerate(stats.table.rows) if k == RQ_TOTAL)
            painted = "".join(s.text for s in stats.table.row_segments(stats.table.rows[line], 160))
            assert "/s" not in painted
            # back: the first answer has no rate (nothing across the gap), the second has
            n = len(seen)
            await relay.start()
            await until(lambda: stats.last and not stats.last.freshness.stale, 10, "fresh again")
            fresh = [m.update for m in seen[n:] if m.update.snapshot is not None]
            assert fresh[0].snapshot.elapsed is None and not fresh[0].snapshot.rates
            assert not stats.table.has_class("stale")
            await until(lambda: stats.table.snapshot.rates.get(RQ_TOTAL), 10, "rates back")
            fresh = [m.update for m in seen[n:] if m.update.snapshot is not None]
            first_rate = next(i for i, u in enumerate(fresh) if u.snapshot.rates)
            assert first_rate >= 1 and fresh[first_rate].freshness.fresh_polls >= 2


def _row_colour(app: MeshtuiApp) -> object:
    """The foreground colour the screen paints a stats row's name in (not the cursor's row)."""
    table = app.stats.table
    line = app.screen._compositor.render_strips()[table.region.y + 1 + (table.cursor == 0)]
    strip = line.crop(table.region.x, table.region.right)
    return next((s.style.color for s in strip if s.text.strip() and s.style and s.style.color), None)


@pytest.fixture()
def own_mesh():
    """A mesh of its own: this test kills an Envoy for good."""
    with start_mesh(rate=8.0) as m:
        yield m


async def test_killed_envoy_goes_stale_pod_shows_sidecar_down_then_restarted(own_mesh):
    """SIGKILL the webapp's Envoy: the views go stale within two intervals and the pod
    shows its sidecar down (READY 1/2, the sidecar not answering); the demo's kubelet
    restarts it (RESTARTS 1, 2/2) and the rates come back only after it answers again."""
    interval = 0.5
    pods_seen: list[PodsChanged] = []
    updates: list[StatsUpdated] = []

    def hook(message: object) -> None:
        if isinstance(message, PodsChanged):
            pods_seen.append(message)
        elif isinstance(message, StatsUpdated):
            updates.append(message)

    app = MeshtuiApp(Options(kubeconfig=own_mesh.kubeconfig, interval=interval))
    async with app.run_test(size=(160, 48), message_hook=hook) as pilot:
        name = await select_pod(app, pilot, "webapp", own_mesh)
        key = f"istioinaction/{name}"
        stats, clusters = app.stats, app.clusters
        await until(lambda: stats.table.snapshot and stats.table.snapshot.rates, 15, "moving counters")
        live_colour = _row_colour(app)
        (envoy,) = [
            p
            for p in envoys(descendants(own_mesh.proc.pid))
            if name in Path(f"/proc/{p}/cmdline").read_text()
        ]
        os.kill(envoy, signal.SIGKILL)
        killed = time.monotonic()
        await until(lambda: stats.last and stats.last.freshness.stale, 2 * interval + 0.5, "stats stale")
        assert time.monotonic() - killed <= 2 * interval + 0.5
        assert not stats.table.snapshot.rates and stats.table.has_class("stale")
        assert str(stats.query_one("#stats-state").render()).startswith("stale since ")
        # the rows look stale: dimmed (with capture-pane -e they kept the live colours,
        # the text having no colour of its own for text-opacity to dim)
        await pilot.pause()
        stale_colour = _row_colour(app)
        assert live_colour is not None and stale_colour is not None and stale_colour != live_colour
        await until(lambda: app.pods._cells[key][3] == SIDECAR_DOWN, 3, "sidecar marked down")
        assert app.pods._cells[key][0] == "▶ " + name  # still the pod whose views are shown
        app.query_one(TabbedContent).active = "tab-clusters"
        shown = time.monotonic()
        await until(
            lambda: clusters.last and clusters.last.freshness.stale, 2 * interval + 0.5, "clusters stale"
        )
        assert time.monotonic() - shown <= 2 * interval + 0.5
        assert str(clusters.query_one("#clusters-state").render()).startswith("stale since ")
        # the pod list followed the kubelet: the sidecar container down, then restarted
        await until(lambda: app.pods._cells[key][1:5:3] == ("2/2", "1"), 20, "READY 2/2, RESTARTS 1")
        mine = [p for m in pods_seen for p in m.pods if p.name == name]
        assert any(p.ready == "1/2" and p.restarts == 0 and p.status == "Error" for p in mine)
        assert any(p.ready == "1/2" and p.restarts == 1 and p.status == "Running" for p in mine)
        # the views come back once the restarted Envoy answers: fresh, and no rate across the gap
        app.query_one(TabbedContent).active = "tab-stats"
        n = len(updates)
        await until(lambda: stats.last and not stats.last.freshness.stale, 15, "stats fresh again")
        await until(lambda: app.pods._cells[key][3] != SIDECAR_DOWN, 5, "sidecar no longer marked down")
        await until(lambda: stats.table.snapshot and stats.table.snapshot.rates, 15, "rates back")
        after = [m.update for m in updates[n:] if m.update.snapshot is not None]
        first_fresh = next(i for i, u in enumerate(after) if not u.freshness.stale)
        assert not after[first_fresh].snapshot.rates  # the first answer after the gap has no rate

        # a counter the restarted Envoy counts from 0 again is marked reset (40 -> 0 read as a
        # plain 0 before), in the first answer that has it (its cluster may come over xDS a
        # poll after the Envoy's first answer)
        def marked() -> bool:  # in a fresh answer within the RESET_SHOWN_S it stays marked
            snaps = (
                m.update.snapshot for m in updates[n:] if m.update.snapshot and not m.update.freshness.stale
            )
            return any(RQ_TOTAL in snap.resets for snap in snaps)

        await until(marked, 10, "the counter marked reset")
        first_rate = next(i for i, u in enumerate(after) if u.snapshot.rates)
        assert first_rate > first_fresh and after[first_rate].freshness.fresh_polls >= 2
        assert not stats.table.has_class("stale")
        app.query_one(TabbedContent).active = "tab-clusters"
        await until(lambda: clusters.last and not clusters.last.freshness.stale, 15, "clusters fresh again")
