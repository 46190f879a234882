"""The simulated API server's `/_sim/` endpoints, with which tests and the demo steer it:
drop every forward, rollout-restart a workload, switch auth to forbidden or expired,
give the demo user a Role, rotate the accepted tokens, move the watch log on, pause or
resume the demo's own load loop."""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

from aiohttp import web

from meshtui.demo import watchlog

if TYPE_CHECKING:
    from meshtui.demo.apiserver import SimApiServer


def _status(code: int, reason: str, message: str) -> web.Response:
    return web.json_response(watchlog.status_body(code, reason, message), status=code)


def install(router: web.UrlDispatcher, api: SimApiServer) -> None:
    for path, handler in (
        ("/_sim/drop-forwards", drop),
        ("/_sim/restart/{ns}/{workload}", restart),
        ("/_sim/auth/{mode}", auth),
        ("/_sim/role", role),
        ("/_sim/token", token),
        ("/_sim/watch/{what}", watch),
        ("/_sim/load/{what}", load),
    ):
        router.add_post(path, functools.partial(handler, api))


async def drop(api: SimApiServer, request: web.Request) -> web.Response:
    return web.json_response({"dropped": api.drop_forwards()})


async def restart(api: SimApiServer, request: web.Request) -> web.Response:
    new = await api.rollout_restart(request.match_info["ns"], request.match_info["workload"])
    if new is None:
        return _status(404, "NotFound", "no such workload")
    return web.json_response({"name": new.name})


async def load(api: SimApiServer, request: web.Request) -> web.Response:
    """`pause` or `resume` the demo's own load loop (requests in flight finish)."""
    what = request.match_info["what"]
    if what not in ("pause", "resume"):
        return _status(400, "BadRequest", "load is pause or resume")
    if what == "pause":
        api.demo_load_on.clear()
    else:
        api.demo_load_on.set()
    return web.json_response({"load": what})


async def auth(api: SimApiServer, request: web.Request) -> web.Response:
    mode = request.match_info["mode"]
    if mode not in ("ok", "forbidden", "expired"):
        return _status(400, "BadRequest", "mode is ok, forbidden or expired")
    # open watches go on, as on a real server: a request is authenticated and authorized
    # once, when it starts; the change meets the next request (`/_sim/watch/end` ends them)
    api.auth_mode = mode
    return web.json_response({"mode": mode})


async def token(api: SimApiServer, request: web.Request) -> web.Response:
    """`{"token": T, "user": U, "revoke": [OLD, ...]}`: rotate the accepted tokens."""
    doc = await request.json()
    await api.rotate_token(
        str(doc["token"]), str(doc.get("user") or "exec-user"), tuple(doc.get("revoke") or ())
    )
    return web.json_response({"tokens": len(api.tokens)})


async def role(api: SimApiServer, request: web.Request) -> web.Response:
    """Give the demo user a Role: `{"rules": [{"resources", "verbs"}] | null, "version"}`."""
    api.rbac.set_role(await request.json())
    return web.json_response({"rules": None if api.rbac.rules is None else len(api.rbac.rules)})


async def watch(api: SimApiServer, request: web.Request) -> web.Response:
    """advance: something else changed (bookmarks carry it); expire: the log moves past
    every open watch (they end and meet 410); lag: open watches end and the next one
    lands on a replica 5 versions behind for 10 s (it waits 3 s, then 504); lag-briefly:
    the same replica catches up within 1 s (the watch waits, then is served); end: open
    watches end as at their timeoutSeconds (the clients watch again from where they were)."""
    what = request.match_info["what"]
    if what == "bookmarks":  # {"every": SECONDS}: the bookmark frequency, a minute by default
        api.watchlog.bookmark_every = float((await request.json())["every"])
        await api.notify()
        return web.json_response({"every": api.watchlog.bookmark_every})
    if what not in ("advance", "expire", "lag", "lag-briefly", "end"):
        return _status(400, "BadRequest", "what is advance, expire, lag, lag-briefly, end or bookmarks")
    if what == "end":
        await api.end_watches()
        return web.json_response({"resourceVersion": str(api.rv)})
    api.rv += 1
    if what == "expire":
        api.watchlog.compact(api.rv)
        api.watch_epoch += 1
    elif what in ("lag", "lag-briefly"):  # open watches end, the next lands on the lagging replica
        api.watchlog.lag = 5
        api.watchlog.lag_until = time.monotonic() + (10.0 if what == "lag" else 1.0)
        api.watch_epoch += 1
    await api.notify()
    return web.json_response({"resourceVersion": str(api.rv)})
