"""The pods list as a user reads it: what a failing pod shows at every size, replicas told
apart, and a 10,000-pod cluster listed whole and kept current by its watch (Pilot, fed
by a pod watch of the test's own; no cluster needed)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from helpers.wait import until
from meshtui.envoy.live import DirectEndpoint
from meshtui.kube.pods import PodEvent, PodInfo
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.export import screen_lines
from meshtui.ui.format import short_pod_name

NOW = 1_780_000_000.0


def pod(name: str, ns: str = "bookinfo", **kw: object) -> PodInfo:
    base = dict(
        namespace=ns,
        name=name,
        uid=name,
        workload=name.rsplit("-", 2)[0],
        ready="2/2",
        status="Running",
        restarts=0,
        created=NOW - 3600,
        ip="10.244.1.7",
        sidecar="1.24.2",
    )
    return PodInfo(**{**base, **kw})  # type: ignore[arg-type]


CRASHING = pod("reviews-v2-5b8f6c7d9f-x7k2q", ready="1/2", status="CrashLoopBackOff", restarts=17)
REPLICAS = [
    pod("reviews-v2-5b8f6c7d9f-a1b2c"),
    CRASHING,
    pod("reviews-v2-5b8f6c7d9f-zz9wm"),
    pod("istio-ingressgateway-5bf6c98d8f-vvvmj", ns="istio-system", ready="1/1"),
]


def app_with(pods: list[PodInfo], updates: asyncio.Queue[PodEvent] | None = None) -> MeshtuiApp:
    async def events() -> AsyncIterator[PodEvent]:
        yield PodEvent("SYNC", tuple(pods))
        while True:
            if updates is None:
                await asyncio.sleep(3600)
                continue
            yield await updates.get()

    # the selected pod's views reach nothing: only the list is looked at
    return MeshtuiApp(
        Options(interval=3600),
        clock=lambda: NOW,
        pod_events=events,
        endpoint_for=lambda p: DirectEndpoint("http://127.0.0.1:9", f"{p.name}:15000"),
    )


def row_on_screen(app: MeshtuiApp, suffix: str) -> str:
    region = app.pods.table.region
    lines = screen_lines(app)[region.y : region.y + region.height]
    rows = [line[region.x : region.x + region.width] for line in lines if suffix in line]
    assert len(rows) == 1, (suffix, lines)
    return rows[0]


@pytest.mark.parametrize("size", [(80, 24), (120, 30), (160, 48)])
async def test_a_crashing_pod_shows_its_status_and_restarts_and_replicas_stay_apart(size):
    app = app_with(REPLICAS)
    async with app.run_test(size=size) as pilot:
        await until(lambda: len(app.pods.table.rows) == len(REPLICAS), 5, "the pods listed")
        await pilot.pause()
        row = row_on_screen(app, "-x7k2q")
        # STATUS and RESTARTS are what a user looks at then: both whole, beside the pod's suffix
        assert "CrashLoopBackOff" in row and " 17 " in row + " " and "1/2" in row, row
        header = screen_lines(app)[app.pods.table.region.y]
        assert "STATUS" in header and ("RESTARTS" in header or "RST" in header), header
        # every replica's own suffix is on screen: rows that differ look different
        suffixes = ["-a1b2c", "-x7k2q", "-zz9wm", "-vvvmj"]
        shown = [row_on_screen(app, s) for s in suffixes]
        assert len(set(shown)) == len(shown)


def test_a_pod_name_is_shortened_in_its_middle_keeping_its_own_suffix():
    assert short_pod_name("reviews-v2-5b8f6c7d9f-x7k2q", 18) == "reviews-v2-…-x7k2q"
    assert short_pod_name("▶ reviews-v2-5b8f6c7d9f-x7k2q", 18) == "▶ reviews-v…-x7k2q"
    assert short_pod_name("catalog-6cf4b97d-5kkz8", 40) == "catalog-6cf4b97d-5kkz8"
    assert len(short_pod_name("a-very-long-name-without-room", 6)) == 6


async def test_ten_thousand_pods_are_all_listed_and_a_watch_event_changes_its_row():
    many = [pod(f"svc-{i % 900}-6d8f7c9b4-{i:05d}", ns=f"team-{i % 40:02d}") for i in range(10_000)]
    updates: asyncio.Queue[PodEvent] = asyncio.Queue()
    app = app_with(many, updates)
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.pods.table
        await until(lambda: len(table.rows) == 10_000 and app.pods.selected, 10, "every pod listed")
        table.focus()
        await pilot.press("end")
        assert table.cursor == 9_999
        last = table.current
        assert last is not None
        # a restart on the last row (a change in place: the row is repainted, nothing moves)
        target = table.pods[last]
        await updates.put(PodEvent("MODIFIED", (dataclasses.replace(target, restarts=4, status="Error"),)))
        await until(lambda: "Error" in row_on_screen(app, target.name[-6:]), 5, "the row repainted")
        assert table.current == last and len(table.rows) == 10_000
        # a filter narrows the list; the state line counts what is shown of the whole
        await pilot.press("slash", *"team-07")
        await until(lambda: len(table.rows) == 250, 5, "the filtered rows")
        assert all(k.startswith("team-07/") for k in table.rows)
        state = str(app.pods.query_one("#pods-state").render())
        assert "250 of 10000 pods" in state
        # a pod deleted from the middle goes; one added lands in its place in the order
        gone = many[5000]
        await updates.put(PodEvent("DELETED", (gone,)))
        await updates.put(PodEvent("ADDED", (pod("svc-1-6d8f7c9b4-new01", ns="team-07"),)))
        await until(lambda: "team-07/svc-1-6d8f7c9b4-new01" in table.rows, 5, "the new pod")
        assert f"{gone.namespace}/{gone.name}" not in table.pods


async def test_an_empty_list_says_which_narrowing_hides_the_pods():
    from helpers.apps import FixedAdmin, fixed_app
    from helpers.loopback import loopback_http

    with loopback_http(FixedAdmin) as url:
        app = fixed_app(url)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(lambda: app.pods._shown, 5, "pods")
            app.pods.table.focus()
            await pilot.press("slash", *"zzz", "enter")
            state = app.pods.query_one("#pods-state")
            await until(lambda: "no pods match" in str(state.render()), 3, "the empty state")
            assert "filter 'zzz' (/ to change)" in str(state.render())
            assert "sidecars only" not in str(state.render())  # s would narrow, not widen
