"""Each kind of in-use stat is read as often as it can change (envoy/used_poll.py)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest

import meshtui.envoy.feed as feed_module
from meshtui.envoy.feed import StatsFeed
from meshtui.envoy.live import DirectEndpoint
from meshtui.envoy.used_poll import GAUGES_EVERY_BIG, FlushConfig, UsedPoll


def schedule(poll: UsedPoll, ticks: int, interval: float = 1.0) -> list[tuple[str, ...]]:
    out = []
    for i in range(ticks):
        now = 100.0 + i * interval + (0.05 if i % 2 else 0.0)  # ticks start a little late
        due = poll.due(now, interval)
        for kind in due:
            poll.store(kind, "", now)
        out.append(due)
    return out


def test_counters_every_tick_histograms_at_each_flush_gauges_slower_only_when_big():
    small = schedule(UsedPoll(FlushConfig(5.0)), 11)
    assert all("counter" in due and "gauge" in due for due in small)
    assert [i for i, due in enumerate(small) if "histogram" in due] == [0, 5, 10]
    assert [i for i, due in enumerate(small) if "text" in due] == [0, 5, 10]

    big = schedule(UsedPoll(FlushConfig(5.0), big=True), 10)
    assert all("counter" in due for due in big)
    step = int(GAUGES_EVERY_BIG)
    assert [i for i, due in enumerate(big) if "gauge" in due] == list(range(0, 10, step))

    # stats_flush_on_admin: every read flushes, so histograms move on every tick
    assert all("histogram" in due for due in schedule(UsedPoll(FlushConfig(on_admin=True)), 4))
    # a refresh slower than the flush reads everything on every tick
    assert all(len(due) == 4 for due in schedule(UsedPoll(FlushConfig(1.0)), 4, interval=2.0))


def test_the_flush_settings_come_from_the_bootstrap():
    assert FlushConfig.from_bootstrap({}) == FlushConfig(5.0)  # Envoy's default
    assert FlushConfig.from_bootstrap({"stats_flush_interval": "1s"}) == FlushConfig(1.0)
    assert FlushConfig.from_bootstrap({"stats_flush_interval": "0.500s"}) == FlushConfig(0.5)
    assert FlushConfig.from_bootstrap({"stats_flush_on_admin": True}).on_admin
    assert FlushConfig.from_bootstrap({"stats_flush_interval": "soon"}) == FlushConfig(5.0)


class TypedAdmin:
    """Answers `/stats?usedonly&type=` per kind from dicts, counting the reads of each."""

    def __init__(self) -> None:
        self.counters = {"cluster.a.upstream_rq_total": 10, "cluster_manager.cluster_added": 3}
        self.gauges = {"cluster.a.upstream_rq_active": 1}
        self.histograms = {"cluster.a.upstream_rq_time": "No recorded values"}
        self.reads: Counter[str] = Counter()

    async def config_dump(self, params=None) -> str:
        dump = {"@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"}
        return json.dumps({"configs": [{**dump, "bootstrap": {"stats_flush_interval": "10s"}}]})

    async def stats_typed_bodies(self, in_thread=True) -> dict[str, str]:
        return {
            "counter": "".join(f"{n}: {v}\n" for n, v in self.counters.items()),
            "gauge": "".join(f"{n}: {v}\n" for n, v in self.gauges.items()),
            "histogram": "".join(f"{n}: {v}\n" for n, v in self.histograms.items()),
        }

    async def stats_used(self, kind, in_thread=False) -> str:
        self.reads[kind] += 1
        table = {"counter": self.counters, "gauge": self.gauges, "histogram": self.histograms}.get(kind, {})
        return "".join(f"{n}: {v}\n" for n, v in table.items())


def test_a_gauge_read_less_often_holds_its_last_value_and_shows_its_change_when_read(monkeypatch):
    monkeypatch.setattr(feed_module, "BIG_SIDECAR", 2)  # three stats: a big sidecar here
    admin = TypedAdmin()
    feed = StatsFeed(DirectEndpoint("http://127.0.0.1:9"), interval=1.0)

    def poll(i: int):
        return asyncio.run(feed.read(admin, 100.0 + i))  # type: ignore[arg-type]

    first = poll(0)
    assert feed.used.flush == FlushConfig(10.0)  # from the bootstrap
    assert first.read == {"counter", "gauge", "histogram", "text"}
    assert dict(first.every)["gauge"] == GAUGES_EVERY_BIG and dict(first.every)["histogram"] == 10.0
    admin.counters["cluster.a.upstream_rq_total"] = 15
    admin.gauges["cluster.a.upstream_rq_active"] = 7
    second = poll(1)
    snap = second.snapshot
    assert second.read == {"counter"}
    assert (
        snap.values["cluster.a.upstream_rq_total"] == "15" and snap.rates["cluster.a.upstream_rq_total"] > 0
    )
    # the gauge was not read: its last value stands, with no change
    assert snap.values["cluster.a.upstream_rq_active"] == "1" and not snap.deltas.get(
        "cluster.a.upstream_rq_active"
    )
    assert snap.kind("cluster.a.upstream_rq_active") == "gauge"
    poll(2)
    third = poll(int(GAUGES_EVERY_BIG))
    assert "gauge" in third.read
    assert third.snapshot.values["cluster.a.upstream_rq_active"] == "7"
    assert third.snapshot.deltas["cluster.a.upstream_rq_active"] == 6
    assert admin.reads["counter"] == 4 and admin.reads["gauge"] == 2 and admin.reads["histogram"] == 1
    feed.restart_rates()  # a gap: every kind is read again at once
    assert poll(int(GAUGES_EVERY_BIG) + 1).read == {"counter", "gauge", "histogram", "text"}


@pytest.mark.parametrize("interval", [0.5])
def test_a_real_envoys_flush_interval_sets_the_histograms_cadence(mesh, interval):
    """The demo's Envoy flushes each second (its bootstrap): histograms are read each second."""
    feed = StatsFeed(DirectEndpoint(mesh.info["admin"]["catalog"]), interval=interval)

    async def polls(n: int):
        updates, out = feed.updates(), []
        try:
            async for update in updates:
                out.append(update)
                if len(out) == n:
                    return out
        finally:
            await updates.aclose()

    got = asyncio.run(polls(4))
    assert feed.used.flush == FlushConfig(1.0)
    assert [("histogram" in u.read) for u in got] == [True, False, True, False]
    assert all("counter" in u.read and "gauge" in u.read for u in got)  # a small sidecar
    snap = got[-1].snapshot
    assert snap is not None and any(snap.kind(n) == "histogram" for n in snap.in_use or ())


def test_the_detail_says_how_often_a_kind_read_less_often_is_read():
    from types import SimpleNamespace

    from meshtui.envoy.feed import StatsUpdate
    from meshtui.envoy.filter import StatFilter
    from meshtui.ui.proxies.stats import StatsPane

    pane = StatsPane(1.0, "")
    pane.feed = SimpleNamespace(interval=1.0)  # type: ignore[assignment]
    every = (("counter", 1.0), ("gauge", 5.0), ("histogram", 5.0), ("text", 5.0))
    pane.last = StatsUpdate(endpoint="e", filter=StatFilter(), every=every)
    assert pane._bars("counter") == "one bar per poll"
    assert pane._bars("gauge") == "one bar per read, every 5 s"
    pane.last = StatsUpdate(endpoint="e", filter=StatFilter(), every=(("gauge", 1.0),))
    assert pane._bars("gauge") == "one bar per poll"  # a small sidecar: every tick
