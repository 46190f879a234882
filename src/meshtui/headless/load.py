"""`meshtui load`: send HTTP requests at a fixed rate (open loop: load/generator.py) to a URL,
or to a path through a port-forward (`--to svc/NS/NAME:PORT`), print a line a second on
stderr, and the run's figures at the end (`--json`: one object)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
import sys
from collections.abc import AsyncIterator

from meshtui.headless import CommandError, cluster, print_json, print_lines, table
from meshtui.kube.pod_port import ForwardTarget, TargetError, forwarded, header, where_to
from meshtui.load.generator import ERROR_KINDS, LoadGenerator, LoadSnapshot, LoadSpec


def load_command(args: argparse.Namespace) -> int:
    spec, to = _spec(args)
    try:
        final = asyncio.run(_run(args, spec, to))
    except (TargetError, OSError) as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print_json(final.as_json())
    else:
        print_lines(summary(final))
    return 0


def _spec(args: argparse.Namespace) -> tuple[LoadSpec, ForwardTarget | None]:
    try:
        headers = tuple(header(h) for h in args.header or [])
        to = where_to(args.target, args.to)
    except TargetError as exc:
        raise CommandError(str(exc)) from exc
    spec = LoadSpec(
        url=args.target,
        rate=args.rate,
        duration=args.duration,
        host=args.host,
        headers=headers,
        max_in_flight=args.max_in_flight,
        timeout=args.timeout,
        force_trace_pct=args.force_trace,
    )
    return spec, to


@contextlib.asynccontextmanager
async def _base_url(args: argparse.Namespace, to: ForwardTarget | None) -> AsyncIterator[str]:
    """'' for a full URL; for --to, the forward's http://127.0.0.1:PORT, held for the run."""
    if to is None:
        yield ""
        return
    from meshtui.kube.config import KubeError

    try:
        async with cluster(args) as (target, manager), forwarded(target, manager, to) as (url, where):
            print(f"meshtui load: {to.shown} -> {where.pod}:{where.port} on {url}", file=sys.stderr)
            yield url
    except KubeError as exc:
        raise TargetError(str(exc)) from exc


async def _run(args: argparse.Namespace, spec: LoadSpec, to: ForwardTarget | None) -> LoadSnapshot:
    from meshtui.http import load_session

    async with _base_url(args, to) as base:
        url = base + spec.url
        spec = dataclasses.replace(spec, url=url)
        generator = LoadGenerator(spec, on_second=None if args.quiet else _progress)
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):  # ctrl+c ends the run and prints what it got
            loop.add_signal_handler(signal.SIGINT, generator.stop)
        try:
            async with load_session(url, spec.timeout, spec.max_in_flight) as client:
                return await generator.run(client)
        finally:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signal.SIGINT)


def _progress(s: LoadSnapshot) -> None:
    """A line a second on stderr: what a user watching the terminal wants, not for scripts."""
    w = s.window
    classes = " ".join(f"{k}:{v}" for k, v in s.classes().items()) or "no answers yet"
    errors = sum(s.errors.values())
    print(
        f"{s.elapsed:5.0f}s sent {s.sent} ({s.rate_achieved:.1f}/s)  {classes}  errors {errors}"
        f"  p50 {_ms(w.p50)} p99 {_ms(w.p99)} (last 10 s)",
        file=sys.stderr,
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}ms"


def summary(s: LoadSnapshot) -> list[str]:
    lat = s.run
    rows = [
        ("sent", f"{s.sent} in {s.elapsed:.1f} s ({s.rate_achieved:.2f}/s, asked {s.rate:g}/s)"),
        ("completed", str(s.completed)),
        ("codes", "  ".join(f"{c}: {n}" for c, n in sorted(s.codes.items())) or "-"),
        ("classes", "  ".join(f"{k}: {v}" for k, v in s.classes().items()) or "-"),
        ("errors", "  ".join(f"{k}: {s.errors.get(k, 0)}" for k in ERROR_KINDS)),
        ("latency", f"p50 {_ms(lat.p50)}  p90 {_ms(lat.p90)}  p99 {_ms(lat.p99)}  max {_ms(lat.max)}"),
        ("scheduling lag", f"p99 {_ms(s.lag_p99_ms)} (how late requests left against the clock)"),
    ]
    if s.traced:
        rows.append(("force-traced", f"{len(s.traced)} (x-request-id kept: --json lists them)"))
    return table(rows, ("RUN", "FIGURES"))
