"""The live stats poll: `/stats?usedonly` each second, the full name list rarely.

A stat never written holds its initial value, so every name's value is known from the
used ones alone; these tests hold the poll to that against a real Envoy, and hold the
refresh schedule of the full list to what it promises.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshtui.envoy.feed import CATALOG_MIN_GAP_S, CATALOG_REFRESH_S, StatsFeed
from meshtui.envoy.filter import StatFilter
from meshtui.envoy.live import DirectEndpoint
from meshtui.envoy.stats import NO_VALUES
from meshtui.envoy.stats_catalog import STRUCTURE_COUNTERS, CatalogMerge, parse_catalog
from meshtui.envoy.tracker import StatKinds, StatsTracker


def test_values_of_unused_stats_are_their_initial_ones():
    catalog = parse_catalog(
        {
            "counter": "a.rq: 0\nb.rq: 7\n",
            "gauge": "a.cx: 0\n",
            "histogram": f"a.time: {NO_VALUES}\n",
            "text": 'a.ver: ""\n',
        }
    )
    tracker = StatsTracker()
    tracker.kinds = StatKinds(catalog=catalog.kinds)
    used = tracker.update("b.rq: 7\nnew.rq: 1\n", 1.0)  # new.rq: created since the catalog
    snap = CatalogMerge().merge(used, catalog)
    assert snap.names == ("a.cx", "a.rq", "a.time", "a.ver", "b.rq", "new.rq")
    assert snap.in_use == ("b.rq", "new.rq")
    assert dict(snap.values) == {
        "a.cx": "0",
        "a.rq": "0",
        "a.time": NO_VALUES,
        "a.ver": '""',
        "b.rq": "7",
        "new.rq": "1",
    }
    assert snap.kind("a.time") == "histogram" and snap.kind("b.rq") == "counter"
    assert snap.kind("new.rq") == "unknown" and snap.unknown_numeric == 1
    assert "nope" not in snap.values and snap.values.get("nope") is None


def test_the_merged_names_are_the_same_object_while_nothing_changes():
    catalog = parse_catalog({"counter": "a: 0\nb: 0\n"})
    tracker, merge = StatsTracker(), CatalogMerge()
    first = merge.merge(tracker.update("a: 1\n", 1.0), catalog)
    second = merge.merge(tracker.update("a: 2\n", 2.0), catalog)
    assert second.names is first.names  # views re-filter only when names change
    third = merge.merge(tracker.update("a: 2\nc: 1\n", 3.0), catalog)
    assert third.names == ("a", "b", "c") and third.names is not first.names


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="abc.|_9", min_size=1, max_size=8), max_size=60),
    st.text(alphabet="abc.|_9", max_size=4),
)
def test_a_prefix_over_sorted_names_is_a_bisect_with_the_same_answer(names, prefix):
    ordered = sorted(set(names))
    f = StatFilter(prefix)
    got, want = f.select_sorted(ordered), f.select(ordered)
    assert got == want and list(got) == want and len(got) == len(want)
    # the rows view finds its cursor's row by bisection, with a list's answers
    for i, name in enumerate(want):
        assert got.index(name) == i and name in got and got[i] == name and got[i - len(want)] == name
    for name in set(ordered) - set(want):
        assert name not in got
        with pytest.raises(ValueError):
            got.index(name)
    assert list(got[1:3]) == want[1:3]


class FakeAdmin:
    """Answers the feed's calls from a dict of stats, counting the full-list reads."""

    def __init__(self) -> None:
        self.stats = {"a.rq": "0", "b.rq": "3", STRUCTURE_COUNTERS[0]: "10"}
        self.used = {"b.rq", STRUCTURE_COUNTERS[0]}
        self.catalog_reads = 0

    async def config_dump(self, params=None) -> str:
        return '{"configs": []}'

    async def stats_typed_bodies(self, in_thread=True) -> dict[str, str]:
        self.catalog_reads += 1
        return {"counter": "".join(f"{n}: {v}\n" for n, v in self.stats.items())}

    async def stats_used(self, kind, in_thread=False) -> str:
        if kind != "counter":
            return ""
        return "".join(f"{n}: {v}\n" for n, v in self.stats.items() if n in self.used)


def test_the_full_name_list_is_read_at_start_on_structure_changes_and_rarely():
    admin = FakeAdmin()
    feed = StatsFeed(DirectEndpoint("http://127.0.0.1:9"))

    def poll(at: float):
        return asyncio.run(feed.read(admin, at))  # type: ignore[arg-type]

    first = poll(100.0)
    assert admin.catalog_reads == 1 and first.snapshot.names == ("a.rq", "b.rq", STRUCTURE_COUNTERS[0])
    poll(101.0)
    assert admin.catalog_reads == 1  # steady: used stats only
    admin.stats[STRUCTURE_COUNTERS[0]] = "11"  # a cluster was added
    admin.stats["c.rq"] = "0"
    poll(102.0)
    assert admin.catalog_reads == 1  # not more often than the minimum gap
    snap = poll(100.0 + CATALOG_MIN_GAP_S + 1).snapshot
    assert admin.catalog_reads == 2 and "c.rq" in snap.names and snap.values["c.rq"] == "0"
    poll(100.0 + CATALOG_MIN_GAP_S + 2)
    assert admin.catalog_reads == 2
    poll(100.0 + CATALOG_MIN_GAP_S + CATALOG_REFRESH_S + 5)
    assert admin.catalog_reads == 3  # the safety net
    feed.restart_rates()  # the Envoy was gone: it may come back with other clusters
    poll(100.0 + 2 * CATALOG_MIN_GAP_S + CATALOG_REFRESH_S + 10)
    assert admin.catalog_reads == 4


def test_every_stat_of_a_real_envoy_has_envoys_value(mesh):
    """Against a real Envoy under load: the names are Envoy's, and a stat the poll did not
    see in use prints Envoy's value (unless it was first written in between)."""
    admin = mesh.info["admin"]["catalog"]
    feed = StatsFeed(DirectEndpoint(admin))

    async def one_poll():
        updates = feed.updates()
        try:
            return await anext(updates)
        finally:
            await updates.aclose()

    snap = asyncio.run(one_poll()).snapshot
    body = httpx.get(admin + "/stats", timeout=10, trust_env=False).text
    used_after = {
        line.partition(": ")[0]
        for line in httpx.get(admin + "/stats?usedonly", timeout=10, trust_env=False).text.splitlines()
    }
    envoy = dict(line.split(": ", 1) for line in body.splitlines())
    # the same names; any Envoy created since were written, so the next poll has them
    assert set(snap.names) <= set(envoy) and set(envoy) - set(snap.names) <= used_after
    assert snap.in_use is not None and 0 < len(snap.in_use) < len(snap.names)
    unused = [n for n in snap.names if n not in snap.in_use and n not in used_after]
    assert len(unused) > 100
    assert all(snap.values[n] == envoy[n] for n in unused), [
        (n, snap.values[n], envoy[n]) for n in unused if snap.values[n] != envoy[n]
    ][:5]
    counters = set(httpx.get(admin + "/stats?type=Counters", timeout=10, trust_env=False).text.split("\n"))
    counter_names = {line.partition(": ")[0] for line in counters if line}
    listed = feed.catalog.kinds
    assert {n for n in listed if snap.kind(n) == "counter"} == counter_names & set(listed)


async def test_a_regex_over_many_names_filters_in_a_thread_and_keeps_the_rows_meanwhile():
    from textual.app import App

    from meshtui.ui.proxies.stats_table import REGEX_IN_THREAD, StatsTable

    n = REGEX_IN_THREAD * 2
    body = "".join(f"cluster.svc-{i:06d}.upstream_rq_{500 + i % 7}: {i}\n" for i in range(n))
    tracker = StatsTracker()
    snap = tracker.update(body, 1.0)

    class One(App[None]):
        def compose(self):
            yield StatsTable()

    app = One()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(StatsTable)
        table.show(snap)
        table.set_filter(StatFilter("cluster.svc-0001"))  # a prefix: at once
        assert len(table.rows) == 100
        before = table.rows
        table.set_filter(StatFilter("re:rq_503$"))
        assert table.rows is before  # not scanned on the event loop: the old rows stay
        for _ in range(200):
            if table.rows is not before:
                break
            await pilot.pause(0.02)
        want = [name for name in snap.names if name.endswith("rq_503")]
        assert table.rows == want and len(want) > 1000


async def test_u_shows_only_the_stats_in_use_and_says_so(mesh):
    from textual.widgets import Static

    from helpers.wait import until
    from meshtui.ui.app import MeshtuiApp, Options

    app = MeshtuiApp(Options(admin=mesh.info["admin"]["catalog"], interval=0.5))
    async with app.run_test(size=(160, 48)) as pilot:
        pane, table = app.stats, app.stats.table
        await until(lambda: table.rows and table.snapshot and table.snapshot.in_use, 10, "stats rows")
        everything = len(table.rows)
        table.focus()
        await pilot.press("u")
        snap = table.snapshot
        assert table.rows == list(snap.in_use) and len(table.rows) < everything
        assert "show: in use" in str(pane.query_one("#stats-mode", Static).render())
        await until(
            lambda: (
                "stats in use from" in pane.query_one("#stats-state").text
                and "u: all" in pane.query_one("#stats-state").text
            ),
            5,
            "state",
        )
        await pilot.press("u")
        assert len(table.rows) == len(table.snapshot.names)
        assert "show: all" in str(pane.query_one("#stats-mode", Static).render())


async def test_a_filter_matching_only_unused_stats_says_so_in_use_view(mesh):
    from helpers.wait import until
    from meshtui.ui.app import MeshtuiApp, Options

    app = MeshtuiApp(Options(admin=mesh.info["admin"]["catalog"], interval=0.5))
    async with app.run_test(size=(160, 48)) as pilot:
        pane, table = app.stats, app.stats.table
        await until(lambda: table.snapshot and table.snapshot.in_use, 10, "stats")
        snap = table.snapshot
        unused = next(n for n in snap.names if n not in snap.in_use)
        table.focus()
        await pilot.press("u")
        pane.show_filter(unused)
        await pilot.pause()
        assert table.rows == []
        await until(
            lambda: "is in use (u: show all)" in pane.query_one("#stats-state").text,
            5,
            "the in-use explanation",
        )
