"""The open-loop generator on loopback servers: the rate holds while the server is slow
(a closed loop's would fall), latency counts from when a request was due, a cap on
unanswered requests drops instead of queueing, and the HDR percentiles are within their
stated error of the exact ones."""

from __future__ import annotations

import asyncio
import random
import threading
import time

import pytest

from helpers.cli import meshtui
from helpers.loopback import Answering, loopback_http
from meshtui.http import load_session
from meshtui.load.generator import LoadGenerator, LoadSpec
from meshtui.load.latency import Latencies

SLOW_S = 0.3


class Slow(Answering):
    """Each answer takes SLOW_S; every fifth is a 503."""

    seen = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with Slow.lock:
            Slow.seen += 1
            n = Slow.seen
        time.sleep(SLOW_S)
        code = 503 if n % 5 == 0 else 200
        self.answer(code)


async def run(spec: LoadSpec):  # type: ignore[no-untyped-def]
    gen = LoadGenerator(spec)
    async with load_session(spec.url, spec.timeout, 100) as client:
        return await gen.run(client)


def test_a_slow_server_shows_as_latency_not_as_a_lower_rate():
    Slow.seen = 0
    with loopback_http(Slow) as url:
        final = asyncio.run(run(LoadSpec(url=url + "/x", rate=40, duration=2.0, max_in_flight=100)))
    # a closed loop of one would have sent 2.0 / 0.3 = 6; open loop sends 80 on the clock
    assert final.sent == 80 and final.completed == 80, final
    assert abs(final.rate_achieved - 40) / 40 < 0.05
    assert final.codes == {200: 64, 503: 16}
    assert final.classes() == {"2xx": 64, "5xx": 16}
    assert final.run.p50 is not None and SLOW_S * 1000 <= final.run.p50 < SLOW_S * 1000 * 2
    assert final.lag_p99_ms is not None and final.lag_p99_ms < 20


def test_over_the_in_flight_cap_requests_are_dropped_not_queued():
    Slow.seen = 0
    with loopback_http(Slow) as url:
        final = asyncio.run(run(LoadSpec(url=url, rate=50, duration=1.0, max_in_flight=5)))
    # 5 in flight take 0.3 s: about 5 every 0.3 s get through, the rest are dropped
    assert final.errors["dropped"] >= 25 and final.sent + final.errors["dropped"] == 50
    assert final.sent <= 25


def test_connection_errors_are_counted_by_kind():
    with loopback_http(Slow) as url:
        pass  # the port is free again: nothing listens there now
    final = asyncio.run(run(LoadSpec(url=url, rate=20, duration=0.5, timeout=1)))
    assert final.sent == 10 and final.completed == 0 and final.errors["connect"] == 10


def test_hdr_percentiles_are_within_their_error_of_the_exact_ones():
    rng = random.Random(7)
    values = [rng.lognormvariate(-4, 1.0) for _ in range(20_000)]  # seconds, ~18 ms median
    lat = Latencies()
    for v in values:
        lat.record(v)
    exact = sorted(values)
    got = lat.whole_run()
    for q, ms in ((50, got.p50), (90, got.p90), (99, got.p99)):
        want = exact[int(len(exact) * q / 100) - 1] * 1000
        assert ms is not None and abs(ms - want) / want < 0.002, (q, ms, want)
    assert got.max is not None and abs(got.max - exact[-1] * 1000) / (exact[-1] * 1000) < 0.002


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["load", "catalog"],
            "meshtui: 'catalog': give a URL (http://HOST:PORT/PATH), or a path with --to svc/NS/NAME:PORT",
        ),
        (
            ["load", "/api", "--to", "svc/catalog:80"],
            "meshtui: --to 'svc/catalog:80': expected svc/NAMESPACE/NAME:PORT, deploy/NAMESPACE/NAME:PORT"
            " or pod/NAMESPACE/NAME:PORT",
        ),
        (["load", "http://127.0.0.1:9/", "-H", "nocolon"], "meshtui: -H 'nocolon': expected 'Name: value'"),
        (["load", "http://127.0.0.1:9/", "--rate", "0"], None),
        (
            ["load", "http://x/", "--to", "svc/a/b:80"],
            "meshtui: with --to, give a path (/api/catalog), not 'http://x/'",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, line):
    r = meshtui(*args)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    if line is not None:
        assert r.stderr.strip() == line
