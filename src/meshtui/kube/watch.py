"""The list + watch loop every watched kind shares (pods, Deployments, Istio's kinds).

The kubernetes client is synchronous: the watch runs in one thread and hands events to
the asyncio loop. Like client-go's reflector it lists in pages, asks for BOOKMARKs and
keeps its resourceVersion fresh with them, re-lists quietly on 410 Gone (too old
resourceVersion) and on 504 "Too large resource version" (an HA replica behind the one
listed on), and retries other errors with backoff, reporting each as one line. A re-list
arrives as one SYNC, so a view is updated in place, never emptied. Typed objects (V1Pod)
and the dicts of the custom-objects API are both read.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, Generic, TypeVar

E = TypeVar("E")
PAGE = 500  # objects per list request, as client-go's reflector and `kubectl get` ask for
LIST_TIMEOUTS = (5, 30)  # seconds to connect, and to wait for each page's answer


class ListWatch(Generic[E]):
    """list, then watch from the list's resourceVersion; one thread, events into asyncio.

    A subclass says which collection (`lister`), what one object becomes (`convert`) and
    how its events look (`event`); the loop (pages, bookmarks, re-lists, back-off, a
    renewed credential) is this one, as client-go's reflector is one for every kind."""

    thread_name = "meshtui-watch"

    def __init__(self, target: Any, namespace: str | None = None, timeout_seconds: int = 50):
        self.target = target
        self.namespace = namespace
        self.timeout_seconds = timeout_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.resource_version = ""  # where the next watch starts (bookmarks move it on)
        self.relists = 0  # quiet re-lists after 410 / 504

    def stop(self) -> None:
        self._stop.set()

    # -- what a kind says ------------------------------------------------------------------

    def lister(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """The list function of the collection (its watch is the same call) and its arguments."""
        raise NotImplementedError

    def convert(self, obj: Any) -> Any:
        raise NotImplementedError

    def event(self, kind: str, items: tuple[Any, ...] = (), message: str = "") -> E:
        raise NotImplementedError

    # -- the loop ----------------------------------------------------------------------

    async def events(self) -> AsyncIterator[E]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[E] = asyncio.Queue()

        def emit(event: E) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, event)
            except RuntimeError:  # the loop is closed: the app is gone
                self._stop.set()

        self._thread = threading.Thread(target=self._run, args=(emit,), name=self.thread_name, daemon=True)
        self._thread.start()
        try:
            while True:
                yield await queue.get()
        finally:
            self.stop()

    def _run(self, emit: Any) -> None:
        from kubernetes import watch
        from kubernetes.client.rest import ApiException

        from meshtui.kube.config import describe

        backoff = 0.5
        refreshed = False  # one new credential per run of 401s, as client-go's exec authenticator
        while not self._stop.is_set():
            used = getattr(getattr(self.target, "configuration", None), "api_key", {}).get("BearerToken")
            try:
                items, rv = self._list()
                self.resource_version = rv
                emit(self.event("SYNC", tuple(self.convert(p) for p in items)))
                backoff, refreshed = 0.5, False
                while not self._stop.is_set():
                    w = watch.Watch()
                    kwargs: dict[str, Any] = {
                        "resource_version": rv,
                        "timeout_seconds": self.timeout_seconds,
                        "allow_watch_bookmarks": True,
                        "_request_timeout": (5, self.timeout_seconds + 15),
                    }
                    fn, args = self.lister()
                    for ev in w.stream(fn, *args, **kwargs):
                        if self._stop.is_set():
                            w.stop()
                            break
                        if ev["type"] == "BOOKMARK":
                            # the client leaves a bookmark's object a raw dict: only its rv counts
                            raw = ev.get("raw_object") or {}
                            rv = (raw.get("metadata") or {}).get("resourceVersion") or rv
                            self.resource_version = rv
                            continue
                        obj = ev["object"]
                        rv = self.resource_version = _resource_version(obj) or rv
                        emit(self.event(ev["type"], (self.convert(obj),)))
            except ApiException as exc:
                if exc.status == 410 or _too_large(exc):  # as client-go's reflector: list again
                    self.relists += 1
                    if exc.status == 410 or not self._stop.wait(0.5):
                        continue
                    return
                why = ""
                if exc.status == 401 and not refreshed:
                    refreshed, why = self._refresh(used)
                    if refreshed:
                        continue  # list again at once with the new credential
                renew = f"; the exec plugin could not renew them: {why}" if why else ""
                message = f"API server rejected the credentials (401){renew}" if renew else ""
                emit(self.event("ERROR", message=message or describe(exc, self.target.shown)))
            except Exception as exc:
                emit(self.event("ERROR", message=describe(exc, self.target.shown)))
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, 10.0)

    def _list(self) -> tuple[list[Any], str]:
        """Every object and the resourceVersion to watch from, read in pages of PAGE as
        client-go's reflector lists (tools/pager: limit 500, then `continue`), each page with
        its own connect and read timeouts rather than one deadline for the whole list, which
        a big cluster's list would outlast. A continue token that expired mid-way (410)
        means one full list, as the pager's FullListIfExpired does."""
        from kubernetes.client.rest import ApiException

        fn, args = self.lister()
        items: list[Any] = []
        token = ""
        while True:
            try:
                page = fn(*args, limit=PAGE, _continue=token or None, _request_timeout=LIST_TIMEOUTS)
            except ApiException as exc:
                if exc.status != 410 or not token:
                    raise
                listed = fn(*args, _request_timeout=LIST_TIMEOUTS)
                return _items(listed), _list_meta(listed)[1]
            items.extend(_items(page))
            token, rv = _list_meta(page)
            if not token or self._stop.is_set():
                return items, rv

    def _refresh(self, rejected: str | None) -> tuple[bool, str]:
        """(renewed, why not): why is the exec plugin's own first line when it failed."""
        refresh = getattr(self.target, "refresh_credentials", None)
        try:
            return (bool(refresh(rejected)) if refresh is not None else False), ""
        except Exception as exc:
            return False, " ".join(str(exc).split())[:200]


def _resource_version(obj: Any) -> str:
    if isinstance(obj, dict):
        return str((obj.get("metadata") or {}).get("resourceVersion") or "")
    return str(obj.metadata.resource_version or "")


def _items(listed: Any) -> list[Any]:
    return list(listed.get("items") or []) if isinstance(listed, dict) else list(listed.items)


def _list_meta(listed: Any) -> tuple[str, str]:
    """(continue token, resourceVersion) of a list answer."""
    if isinstance(listed, dict):
        meta = listed.get("metadata") or {}
        return str(meta.get("continue") or ""), str(meta.get("resourceVersion") or "")
    return listed.metadata._continue or "", listed.metadata.resource_version


def _too_large(exc: Any) -> bool:
    """apiserver's storage.NewTooLargeResourceVersionError: a 504 with this cause."""
    body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else str(exc.body or "")
    return bool(exc.status == 504 and "ResourceVersionTooLarge" in body)
