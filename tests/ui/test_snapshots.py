"""Snapshots of the main screen at 80x24 and 160x48, on data that does not change.

Pods come from a fixed event list with a fixed clock; stats come from a loopback HTTP
server that answers like Envoy's admin with a real capture (so rates stay at zero).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers.apps import FixedAdmin, fixed_app
from helpers.loopback import loopback_http


@pytest.fixture(autouse=True)
def _no_slow_poll_note(monkeypatch: pytest.MonkeyPatch) -> None:
    # "slow poll N ms" depends on how busy the machine is: not part of what a snapshot checks
    monkeypatch.setattr("meshtui.ui.proxies.stats.SLOW_POLL_MS", float("inf"))


@pytest.fixture()
def fixed_admin(monkeypatch) -> Iterator[str]:
    # a loaded machine must not put "slow poll 300 ms" into the snapshot
    monkeypatch.setattr("meshtui.ui.proxies.stats.SLOW_POLL_MS", 10**9)
    with loopback_http(FixedAdmin) as url:
        yield url


async def _settled(pilot) -> None:
    app = pilot.app
    for _ in range(200):
        if app.stats.last is not None and app.stats.table.rows:
            break
        await pilot.pause(0.02)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_main_screen(snap_compare, fixed_admin, size):
    assert snap_compare(fixed_app(fixed_admin), terminal_size=size, run_before=_settled)


def test_filtered_stats_with_histogram_detail(snap_compare, fixed_admin):
    async def run_before(pilot) -> None:
        await _settled(pilot)
        pilot.app.stats.table.focus()
        typed = "cluster.xds-grpc.upstream_cx_c"
        await pilot.press("slash", *typed, "enter")
        for _ in range(200):  # the filtered poll (sent to the "Envoy") is back
            last = pilot.app.stats.last
            if last is not None and last.filter.text == typed:
                break
            await pilot.pause(0.02)
        await pilot.press("G")
        await pilot.pause()

    assert snap_compare(fixed_app(fixed_admin), terminal_size=(160, 48), run_before=run_before)
