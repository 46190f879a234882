"""An open-loop HTTP load generator: requests leave on the clock, not after the previous
answer, so a slow server shows as latency, not as a lower rate.

A closed loop (`while true; do curl ...; done`, or N workers each waiting for its answer)
sends less when the server slows, and its latencies leave out the time a request waited
to be sent: coordinated omission (Gil Tene; what wrk2 and vegeta correct). Here request i
is due at start + i / rate; it is sent then (late ones at once, to catch up), and its
latency is measured from when it was due. More than `max_in_flight` unanswered requests
and the next ones are counted as dropped, not queued behind the others.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from meshtui.load.latency import Latencies, Percentiles

if TYPE_CHECKING:
    import aiohttp

ERROR_KINDS = ("connect", "timeout", "reset", "dropped", "other")
TRACED_KEPT = 1000  # the force-traced requests' ids kept for the Traces place
SERIES = 120  # seconds of per-second figures kept for sparklines


@dataclass(frozen=True)
class LoadSpec:
    url: str
    rate: float  # requests per second
    duration: float | None = None  # seconds; None: until stopped
    host: str | None = None  # the Host header
    headers: tuple[tuple[str, str], ...] = ()
    max_in_flight: int = 200
    timeout: float = 5.0
    force_trace_pct: float = 0.0  # share of requests with x-envoy-force-trace


@dataclass(frozen=True)
class Traced:
    """A force-traced request: its id finds its trace (`x-request-id` is a span tag)."""

    request_id: str
    at: float  # wall-clock seconds
    status: int  # 0: no answer


@dataclass(frozen=True)
class LoadSnapshot:
    """Where a run stands, each second: immutable, handed to the widgets as is."""

    url: str
    rate: float  # asked, now
    elapsed: float
    running: bool
    sent: int
    completed: int
    in_flight: int
    codes: Mapping[int, int]
    errors: Mapping[str, int]
    window: Percentiles  # the last seconds (latency.WINDOW_S)
    run: Percentiles
    lag_p99_ms: float | None  # how late requests left, against their schedule
    series: Mapping[str, tuple[float, ...]] = field(default_factory=dict)  # rate, p99_ms, error_pct
    traced: tuple[Traced, ...] = ()

    @property
    def rate_achieved(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    def classes(self) -> dict[str, int]:
        """The answers by status class: 2xx, 3xx, 4xx, 5xx."""
        out: dict[str, int] = collections.Counter()
        for code, n in self.codes.items():
            out[f"{code // 100}xx"] += n
        return dict(sorted(out.items()))

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "sent": self.sent,
            "completed": self.completed,
            "rate_asked": self.rate,
            "rate_achieved": round(self.rate_achieved, 3),
            "duration_s": round(self.elapsed, 3),
            "codes": {str(c): n for c, n in sorted(self.codes.items())},
            "classes": self.classes(),
            "errors": {k: self.errors.get(k, 0) for k in ERROR_KINDS},
            "latency_ms": self.run.as_json(),
            "scheduling_lag_p99_ms": self.lag_p99_ms,
            "traced_request_ids": [t.request_id for t in self.traced],
        }


def error_kind(exc: BaseException) -> str:
    import aiohttp

    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connect"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError | aiohttp.ClientPayloadError):
        return "reset"
    return "other"


class LoadGenerator:
    def __init__(self, spec: LoadSpec, on_second: Callable[[LoadSnapshot], None] | None = None) -> None:
        """`on_second` gets the figures each second of the run (the app's place, the command's
        progress line): the run's one clock, so nobody polls the generator with a loop of its own."""
        self.spec = spec
        self.on_second = on_second
        self.rate = spec.rate
        self.sent = self.completed = 0
        self.codes: collections.Counter[int] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.latencies = Latencies()
        self.lag = Latencies()
        self.traced: collections.deque[Traced] = collections.deque(maxlen=TRACED_KEPT)
        self._series: dict[str, collections.deque[float]] = {
            k: collections.deque(maxlen=SERIES) for k in ("rate", "p99_ms", "error_pct")
        }
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._rate_changed = asyncio.Event()
        self._started = self._ended = 0.0
        self._last_second = (0, 0, 0, 0)  # sent, completed, failed, 5xx at the last tick
        self._random = random.Random()

    # -- control -----------------------------------------------------------------------

    def set_rate(self, rate: float) -> None:
        """A new rate from now on: the schedule restarts at this instant."""
        self.rate = rate
        self._rate_changed.set()

    def stop(self) -> None:
        self._stop.set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    # -- the run -----------------------------------------------------------------------

    async def run(self, client: aiohttp.ClientSession) -> LoadSnapshot:
        """Send until the duration is over or `stop()`; wait for the answers still due
        (each within the timeout), and return the final figures."""
        loop = asyncio.get_running_loop()
        self._started = loop.time()
        end = self._started + self.spec.duration if self.spec.duration is not None else None
        anchor, i = self._started, 0
        ticker = asyncio.ensure_future(self._tick_every_second())
        try:
            while not self._stop.is_set():
                if self._rate_changed.is_set():
                    self._rate_changed.clear()
                    anchor, i = loop.time(), 0
                due = anchor + i / self.rate
                if end is not None and due >= end:
                    break
                now = loop.time()
                if due > now:
                    try:  # woken early by stop() or a new rate
                        await asyncio.wait_for(self._wake(), due - now)
                        continue
                    except asyncio.TimeoutError:
                        pass
                i += 1
                self.lag.record(max(loop.time() - due, 0.0))
                if len(self._tasks) >= self.spec.max_in_flight:
                    self.errors["dropped"] += 1
                    continue
                task = asyncio.ensure_future(self._one(client, due))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            # a run that reached its duration lasted that long (its last request left before
            # the end: counting to it made 10 sent in 2 s read 5.55/s)
            self._ended = end if end is not None and not self._stop.is_set() else loop.time()
            if self._tasks:
                await asyncio.wait(set(self._tasks), timeout=self.spec.timeout + 1)
        finally:
            ticker.cancel()
            for task in list(self._tasks):
                task.cancel()
        return self.snapshot(running=False)

    async def _wake(self) -> None:
        stop = asyncio.ensure_future(self._stop.wait())
        rate = asyncio.ensure_future(self._rate_changed.wait())
        try:
            await asyncio.wait({stop, rate}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            rate.cancel()

    async def _one(self, client: aiohttp.ClientSession, due: float) -> None:
        loop = asyncio.get_running_loop()
        headers = dict(self.spec.headers)
        if self.spec.host:
            headers["host"] = self.spec.host
        request_id = None
        if self.spec.force_trace_pct and self._random.uniform(0, 100) < self.spec.force_trace_pct:
            request_id = str(uuid.uuid4())
            headers["x-envoy-force-trace"] = "true"
            headers["x-request-id"] = request_id
        self.sent += 1
        status = 0
        try:
            async with client.get(self.spec.url, headers=headers, allow_redirects=False) as response:
                await response.read()
                status = response.status
            self.codes[status] += 1
            self.completed += 1
            self.latencies.record(loop.time() - due)
        except Exception as exc:  # every failure is counted by kind, none ends the run
            self.errors[error_kind(exc)] += 1
        if request_id is not None:
            self.traced.append(Traced(request_id, time.time(), status))

    async def _tick_every_second(self) -> None:
        # not a LiveFeed (meshtui/live.py): nothing is polled here, nothing fails or backs off;
        # this is the run's own clock, which closes the second's figures
        while True:
            await asyncio.sleep(1.0)
            self.latencies.tick()
            failed = sum(self.errors.values())
            five = sum(n for c, n in self.codes.items() if c >= 500)
            sent0, completed0, failed0, five0 = self._last_second
            answered = self.completed - completed0 + failed - failed0
            bad = failed - failed0 + five - five0
            self._series["rate"].append(float(self.sent - sent0))
            self._series["error_pct"].append(100.0 * bad / answered if answered else 0.0)
            self._series["p99_ms"].append(self.latencies.window().p99 or 0.0)
            self._last_second = (self.sent, self.completed, failed, five)
            if self.on_second is not None:
                self.on_second(self.snapshot())

    def snapshot(self, running: bool = True) -> LoadSnapshot:
        loop = asyncio.get_running_loop()
        elapsed = (self._ended or loop.time()) - self._started if self._started else 0.0
        return LoadSnapshot(
            url=self.spec.url,
            rate=self.rate,
            elapsed=elapsed,
            running=running,
            sent=self.sent,
            completed=self.completed,
            in_flight=self.in_flight,
            codes=dict(self.codes),
            errors=dict(self.errors),
            window=self.latencies.window(),
            run=self.latencies.whole_run(),
            lag_p99_ms=self.lag.whole_run().p99,
            series={k: tuple(v) for k, v in self._series.items()},
            traced=tuple(self.traced),
        )
