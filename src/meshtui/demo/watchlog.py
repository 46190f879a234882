"""The simulated API server's pod watch, bounded as the real watch cache is.

Follows kubernetes/apiserver pkg/storage/cacher: the cache keeps a window of
recent events (watch_cache.go; a fixed capacity here), and a watch from a
resourceVersion older than the window gets a 200 whose only event is an ERROR
carrying a `410 Expired` Status, "too old resource version: RV (OLDEST-1)"
(watch_cache_history.go). A watch ahead of the cache (an HA replica lagging behind
the one the client listed on) is refused with a 504 whose cause is
`ResourceVersionTooLarge` (pkg/storage/errors.go). With `allowWatchBookmarks=true`
the watcher gets BOOKMARK events: the watched kind with only
`metadata.resourceVersion`, so a watcher's resourceVersion stays fresh when the cluster
moved on without an event for it: as the cacher sends them, about once a
minute and 2 s before the watch's deadline (cacher.go nextBookmarkTime).
Label and field selectors filter a watch as the cacher's watchers do (cacher.go
convertToWatchEvent): a pod that starts to match arrives as ADDED, one that stops
matching as DELETED with its previous content, and other pods are never sent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import web

from meshtui.demo import podtable

if TYPE_CHECKING:
    from meshtui.demo.apiserver import SimApiServer

Event = tuple[int, str, dict[str, Any], dict[str, Any] | None]  # rv, type, object, previous
BLOCK_TIMEOUT = 3.0  # seconds a watch from a version the cache lacks waits for it
BOOKMARK_BEFORE_DEADLINE = 2.0  # cacher: a bookmark this long before a watch times out


class WatchLog:
    """The last `capacity` pod events; watches from before `floor` are expired."""

    def __init__(self, capacity: int = 1000) -> None:
        self.events: deque[Event] = deque()
        self.capacity = capacity
        self.floor = 0  # a watch from rv >= floor sees every later event
        self.lag = 0  # > 0: the next watch meets a replica this many versions behind
        self.lag_until = 0.0  # (monotonic) when that replica has caught up
        self.bookmark_every = 60.0  # the cacher's bookmarkFrequency (tests shorten it)
        self._last: dict[tuple[str, str], dict[str, Any]] = {}  # each pod as last recorded

    def append(self, rv: int, kind: str, obj: dict[str, Any]) -> None:
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        previous = self._last.pop(key, None) if kind == "DELETED" else self._last.get(key)
        if kind != "DELETED":
            self._last[key] = obj
        self.events.append((rv, kind, obj, previous))
        while len(self.events) > self.capacity:
            self.floor = self.events.popleft()[0]

    def compact(self, rv: int) -> None:
        """Forget every event up to `rv`: what a busy cluster does to a slow client."""
        self.events.clear()
        self.floor = rv

    def after(self, rv: int) -> list[Event]:
        return [e for e in self.events if e[0] > rv]


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode() + b"\n"


def status_body(code: int, reason: str, message: str, **extra: Any) -> dict[str, Any]:
    """A metav1.Status failure, as the API server writes it (in a body or a watch ERROR)."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
        **extra,
    }


def filtered(
    kind: str, obj: dict[str, Any], previous: dict[str, Any] | None, test: Any
) -> tuple[str, dict[str, Any]] | None:
    """The event a selecting watcher gets for this change, if any (convertToWatchEvent)."""
    now = test(obj)
    before = previous is not None and kind == "MODIFIED" and test(previous)
    if kind != "MODIFIED":
        return (kind, obj) if now else None
    if now:
        return ("MODIFIED" if before else "ADDED", obj)
    if before:
        assert previous is not None
        gone = {
            **previous,
            "metadata": {**previous["metadata"], "resourceVersion": obj["metadata"]["resourceVersion"]},
        }
        return ("DELETED", gone)
    return None


async def serve(api: SimApiServer, request: web.Request, ns: str | None, test: Any) -> web.StreamResponse:
    log = api.watchlog
    since = int(request.query.get("resourceVersion") or 0)
    timeout = float(request.query.get("timeoutSeconds") or 1800)
    bookmarks = request.query.get("allowWatchBookmarks") in ("true", "1")
    table = "as=Table" in request.headers.get("Accept", "")  # `kubectl get pods -w` asks for rows

    def event(kind: str, obj: dict[str, Any]) -> bytes:
        return _line({"type": kind, "object": podtable.pod_table([obj], api.rv) if table else obj})

    deadline = time.monotonic() + timeout
    if log.lag:
        lag, log.lag = log.lag, 0
        # cacher.go waitUntilFreshAndBlock: a watch ahead of the cache waits up to 3 s
        # (blockTimeout) for it to catch up, and only then is refused
        fresh_by = time.monotonic() + BLOCK_TIMEOUT
        while since > api.rv - (lag if time.monotonic() < log.lag_until else 0):
            if time.monotonic() >= fresh_by:
                break
            await asyncio.sleep(0.05)
        current = api.rv - (lag if time.monotonic() < log.lag_until else 0)
        if since > current:
            body = status_body(
                504,
                "Timeout",
                f"Too large resource version: {since}, current: {current}",
                details={
                    "causes": [
                        {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
                    ],
                    "retryAfterSeconds": 1,
                },
            )
            return web.json_response(body, status=504)
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    if since and since < log.floor:
        gone = status_body(410, "Expired", f"too old resource version: {since} ({log.floor})")
        await resp.write(_line({"type": "ERROR", "object": gone}))
        return resp
    if not since:
        # a watch without resourceVersion starts with synthetic ADDED events
        for p in api.selected_pods(ns, test):
            await resp.write(event("ADDED", p.to_json()))
        since = api.rv
    marked = time.monotonic()  # the last bookmark (or the watch's start)
    final_mark_sent = False
    epoch = api.watch_epoch
    while epoch == api.watch_epoch:
        now = api.rv  # events appended while this one writes are sent on the next turn
        for _rv, kind, obj, previous in log.after(since):
            if ns is not None and obj["metadata"]["namespace"] != ns:
                continue
            change = filtered(kind, obj, previous, test)
            if change is not None:
                await resp.write(event(*change))
        since = max(since, now)
        clock = time.monotonic()
        left = deadline - clock
        # cacheWatcher.nextBookmarkTime: roughly every minute, and 2 s before the deadline
        due = min(marked + log.bookmark_every, deadline - BOOKMARK_BEFORE_DEADLINE)
        if bookmarks and clock >= due and not final_mark_sent:
            mark = {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": str(since)}}
            await resp.write(_line({"type": "BOOKMARK", "object": mark}))
            marked = clock
            final_mark_sent = clock >= deadline - BOOKMARK_BEFORE_DEADLINE
            continue
        if left <= 0:
            break
        if api.rv > since:
            continue
        wake = min(left, 30, max(due - clock, 0.01) if bookmarks and not final_mark_sent else left)
        await api.wait_changed(wake)
    return resp
