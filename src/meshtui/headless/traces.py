"""`meshtui traces` (trace summaries) and `meshtui trace` (one trace's waterfall), from a
saved Jaeger answer (`--file`) or live from the cluster's Jaeger."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from meshtui.headless import CommandError, print_json, print_lines, read_text, table
from meshtui.jaeger.client import JaegerClient, JaegerError
from meshtui.jaeger.model import JaegerFormatError, Trace, norm_id
from meshtui.jaeger.query import QueryError, TraceQuery, parse_tag, unknown_service
from meshtui.jaeger.text import fmt_start, fmt_us, summary_record, waterfall_lines
from meshtui.jaeger.tree import build_tree, summarize

T = TypeVar("T")


def load_file(path: str) -> list[Trace]:
    """A saved `/api/traces`, `/api/traces/{id}` or `/api/v3/traces` body."""
    from meshtui.jaeger import classic, otlp

    body = read_text(path, "Jaeger answer")
    try:
        if '"resourceSpans"' in body:
            return otlp.parse_traces_data(body)
        traces, errors = classic.parse_traces(body)
    except JaegerFormatError as exc:
        raise CommandError(f"{path}: {exc}") from exc
    if not traces and errors:
        raise CommandError(f"{path}: Jaeger reported {'; '.join(errors)}")
    return traces


async def _with_jaeger(args: argparse.Namespace, work: Callable[[JaegerClient], Awaitable[T]]) -> T:
    """Run `work` against --jaeger-url, or the cluster's Jaeger through a port-forward."""
    if getattr(args, "jaeger_url", None):
        client = JaegerClient(args.jaeger_url)
        try:
            return await work(client)
        finally:
            await client.aclose()
    from meshtui.headless import cluster
    from meshtui.jaeger.locate import DEFAULT_SERVICE, find_jaeger, forward_jaeger, parse_service

    ns, name = parse_service(args.jaeger_service) if args.jaeger_service else DEFAULT_SERVICE
    async with cluster(args) as (target, manager):  # the kubeconfig's, or behind --ssh
        found = await find_jaeger(target, ns, name, fallback=not args.jaeger_service)
        fwd = await forward_jaeger(manager, found)
        client = JaegerClient(fwd.url)
        try:
            return await work(client)
        finally:
            await client.aclose()


def _live(args: argparse.Namespace, work: Callable[[JaegerClient], Awaitable[T]]) -> T:
    from meshtui.kube.config import KubeError

    try:
        return asyncio.run(_with_jaeger(args, work))
    except (JaegerError, JaegerFormatError, QueryError, KubeError) as exc:
        raise CommandError(str(exc)) from exc


def traces_command(args: argparse.Namespace) -> int:
    if args.file:
        traces = load_file(args.file)
    else:
        if not args.service:
            raise CommandError("traces needs --file PATH or --service NAME")
        try:
            query = TraceQuery(
                service=args.service,
                operation=args.operation or "",
                tags=tuple(parse_tag(t) for t in args.tag or []),
                min_duration=args.min_duration or "",
                max_duration=args.max_duration or "",
                lookback=args.lookback,
                limit=args.limit,
            ).check()
        except QueryError as exc:
            raise CommandError(str(exc)) from exc

        async def work(client: JaegerClient) -> list[Trace]:
            found = await client.find_traces(query)
            if not found:  # an empty table for a misspelt name reads as "no traffic"
                known = await client.services()
                if known and query.service not in known:
                    raise QueryError(unknown_service(query.service, known))
            return found

        traces = _live(args, work)
    summaries = sorted(((summarize(t), t) for t in traces), key=lambda st: -st[0].start_us)
    if args.json:
        print_json([summary_record(s, build_tree(t)) for s, t in summaries])
        return 0
    rows = [
        (
            s.trace_id,
            fmt_start(s.start_us),
            fmt_us(s.duration_us),
            str(s.span_count),
            str(s.error_count),
            f"{s.root_service}: {s.root_operation}",
            " ".join(f"{name}({n})" for name, n in s.services),
        )
        for s, _ in summaries
    ]
    print_lines(table(rows, ("TRACE ID", "START", "DURATION", "SPANS", "ERRORS", "ROOT", "SERVICES")))
    return 0


def trace_command(args: argparse.Namespace) -> int:
    if args.file:
        traces = load_file(args.file)
        if args.trace_id:
            want = norm_id(args.trace_id)
            traces = [t for t in traces if norm_id(t.trace_id) == want]
    elif args.trace_id or args.request_id:

        async def work(client: JaegerClient) -> list[Trace]:
            if args.request_id:
                found = await client.find_by_request_id(args.request_id, lookback=args.lookback)
            else:
                found = await client.get_trace(args.trace_id)
            return [found] if found else []

        traces = _live(args, work)
    else:
        raise CommandError("trace needs --file PATH, TRACE_ID or --request-id ID")
    if not traces:
        what = f"x-request-id {args.request_id}" if args.request_id else f"trace {args.trace_id}"
        raise CommandError(f"Jaeger has no {what}")
    trees = [(build_tree(t), summarize(t)) for t in traces]
    if args.json:
        print_json([summary_record(summary, tree) for tree, summary in trees])
    else:
        print_lines([line for tree, summary in trees for line in waterfall_lines(tree, summary)])
    return 0
