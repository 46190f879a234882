"""The pods watch against the strict simulator: bookmarks, 410 Gone and 504 re-lists."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import pytest

from helpers.mesh import api_tls
from helpers.wait import until
from meshtui.kube import config
from meshtui.kube.pods import PodEvent, PodIndex, PodWatch

NS = "istioinaction"


def sim_watch(mesh, what: str) -> str:
    r = httpx.post(
        f"{mesh.info['api']}/_sim/watch/{what}",
        headers={"Authorization": f"Bearer {mesh.info['token']}"},
        verify=api_tls(mesh),
    )
    r.raise_for_status()
    return str(r.json()["resourceVersion"])


@contextlib.contextmanager
def bookmarks_every(mesh, seconds: float):
    """The simulator's bookmark frequency for the block (the cacher's is a minute)."""

    def set_to(value: float) -> None:
        r = httpx.post(
            f"{mesh.info['api']}/_sim/watch/bookmarks",
            json={"every": value},
            headers={"Authorization": f"Bearer {mesh.info['token']}"},
            verify=api_tls(mesh),
        )
        r.raise_for_status()

    set_to(seconds)
    try:
        yield
    finally:
        set_to(60.0)


@pytest.fixture()
async def watching(mesh):
    """A PodWatch on the demo namespace, its events collected; stopped also on failure."""
    watch = PodWatch(config.load(mesh.kubeconfig), NS, timeout_seconds=30)
    events: list[PodEvent] = []

    async def collect() -> None:
        async for ev in watch.events():
            events.append(ev)

    task = asyncio.ensure_future(collect())
    try:
        await until(lambda: any(e.kind == "SYNC" for e in events), 10, "the first list")
        yield watch, events
    finally:
        watch.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def quiet_relist(events: list[PodEvent]) -> None:
    """No error shown, and the pods never went empty: each SYNC carries the whole namespace."""
    assert [e for e in events if e.kind == "ERROR"] == []
    syncs = [e for e in events if e.kind == "SYNC"]
    assert len(syncs) >= 2 and all(len(s.pods) >= 2 for s in syncs)
    index = PodIndex()
    for e in events:
        index.apply(e)
        assert index.pods, f"the pods went empty at {e.kind}"


async def test_bookmarks_keep_the_resource_version_fresh(watching, mesh):
    watch, events = watching
    before = watch.resource_version
    with bookmarks_every(mesh, 0.5):
        rv = sim_watch(mesh, "advance")  # no pod changed: only a bookmark can carry the new rv
        assert int(rv) > int(before)
        await until(lambda: watch.resource_version == rv, 5, "a bookmark with the new rv")
    assert [e.kind for e in events] == ["SYNC"]  # the bookmark is no pod event and no error


async def test_410_gone_leads_to_a_quiet_relist(watching, mesh):
    watch, events = watching
    stale = watch.resource_version
    rv = sim_watch(mesh, "expire")
    await until(
        lambda: watch.relists >= 1 and len([e for e in events if e.kind == "SYNC"]) >= 2, 10, "re-list"
    )
    assert int(watch.resource_version) >= int(rv) > int(stale)
    quiet_relist(events)


async def test_a_replica_that_catches_up_within_3s_serves_the_watch(watching, mesh):
    """cacher.go waitUntilFreshAndBlock: a watch ahead of a lagging cache waits for it
    (up to 3 s) and is served -- no 504, no re-list."""
    watch, events = watching
    syncs = len([e for e in events if e.kind == "SYNC"])
    with bookmarks_every(mesh, 0.5):
        sim_watch(mesh, "lag-briefly")  # open watches end; the next lands on a replica 1 s behind
        rv = sim_watch(mesh, "advance")  # then something else changes: a bookmark carries it
        await until(
            lambda: int(watch.resource_version or 0) >= int(rv), 10, "the watch served (its bookmark)"
        )
    assert watch.relists == 0 and len([e for e in events if e.kind == "SYNC"]) == syncs


async def test_504_too_large_resource_version_leads_to_a_quiet_relist(watching, mesh):
    watch, events = watching
    sim_watch(mesh, "lag")
    await until(
        lambda: watch.relists >= 1 and len([e for e in events if e.kind == "SYNC"]) >= 2, 10, "re-list"
    )
    quiet_relist(events)


def test_the_simulator_answers_as_the_watch_cache_does(mesh):
    headers = {"Authorization": f"Bearer {mesh.info['token']}"}
    url = f"{mesh.info['api']}/api/v1/namespaces/{NS}/pods"
    with httpx.Client(headers=headers, verify=api_tls(mesh), timeout=10) as c:
        stale = c.get(url).json()["metadata"]["resourceVersion"]
        floor = sim_watch(mesh, "expire")
        params = {"watch": "true", "resourceVersion": stale, "timeoutSeconds": "2"}
        r = c.get(url, params=params)
        assert r.status_code == 200
        [event] = [httpx.Response(200, content=line).json() for line in r.content.splitlines()]
        assert event["type"] == "ERROR"
        assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
        assert event["object"]["message"] == f"too old resource version: {stale} ({floor})"
        sim_watch(mesh, "lag")
        asked = time.monotonic()
        r = c.get(url, params={**params, "resourceVersion": floor})
        assert r.status_code == 504
        assert time.monotonic() - asked >= 2.9  # refused only after the cacher's 3 s wait
        assert r.json()["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
        marks = c.get(url, params={**params, "resourceVersion": floor, "allowWatchBookmarks": "true"})
        last = httpx.Response(200, content=marks.content.splitlines()[-1]).json()
        assert last["type"] == "BOOKMARK" and int(last["object"]["metadata"]["resourceVersion"]) > int(floor)


def test_bookmarks_come_about_once_a_minute_and_2s_before_the_deadline(mesh):
    """cacher.go nextBookmarkTime: an unrelated change brings no bookmark at once; the
    watch's one bookmark (a 4 s watch) comes 2 s before its deadline, with the latest rv."""
    headers = {"Authorization": f"Bearer {mesh.info['token']}"}
    url = f"{mesh.info['api']}/api/v1/namespaces/{NS}/pods"
    with httpx.Client(headers=headers, verify=api_tls(mesh), timeout=10) as c:
        rv = c.get(url).json()["metadata"]["resourceVersion"]
        params = {
            "watch": "true",
            "resourceVersion": rv,
            "timeoutSeconds": "4",
            "allowWatchBookmarks": "true",
        }
        with c.stream("GET", url, params=params) as r:
            opened = time.monotonic()
            latest = sim_watch(mesh, "advance")
            lines = list(r.iter_lines())
            took = time.monotonic() - opened
    marks = [httpx.Response(200, content=line).json() for line in lines if line]
    assert [m["type"] for m in marks] == ["BOOKMARK"]
    assert marks[0]["object"]["metadata"]["resourceVersion"] == latest
    assert took >= 3.9  # the stream lasts to its deadline; the mark did not end it
