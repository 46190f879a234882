"""`meshtui mesh`: each service's and each edge's rate, errors and latency, from the
cluster's Prometheus, once (the Mesh place's rows; the PromQL is prometheus/queries.py)."""

from __future__ import annotations

import argparse
import asyncio
import time
from operator import attrgetter

from meshtui.headless import CommandError, print_json, print_lines, table
from meshtui.prometheus.client import PrometheusClient, PrometheusError
from meshtui.prometheus.feed import MeshRow, read_mesh
from meshtui.prometheus.source import DirectPrometheus, ForwardedPrometheus, PrometheusSource


def _cell(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.3g}{unit}"


def text_rows(rows: list[MeshRow]) -> list[str]:
    header = ("SOURCE", "DESTINATION", "RPS", "5XX %", "4XX %", "P50 MS", "P90 MS", "P99 MS")
    cells = [
        (
            f"{r.source}.{r.source_namespace}" if r.source else "-",
            r.destination,
            _cell(r.get("rps")),
            _cell(r.get("error_pct")),
            _cell(r.get("client_error_pct")),
            _cell(r.get("p50_ms")),
            _cell(r.get("p90_ms")),
            _cell(r.get("p99_ms")),
        )
        for r in rows
    ]
    return table(cells, header)


async def _read(args: argparse.Namespace) -> list[MeshRow]:
    async def once(source: PrometheusSource) -> list[MeshRow]:
        try:
            client = PrometheusClient(await source.url())
            try:
                at = args.time if args.time is not None else time.time()
                services, edges = await read_mesh(client, args.window, at)
            finally:
                await client.aclose()
        finally:
            await source.close()
        by_name = attrgetter("source", "source_namespace", "destination")
        return [*sorted(services, key=by_name), *sorted(edges, key=by_name)]

    if args.prometheus:
        return await once(DirectPrometheus(args.prometheus))
    from meshtui.headless import cluster

    async with cluster(args) as (target, manager):
        return await once(ForwardedPrometheus(target, manager, args.prometheus_service))


def mesh_command(args: argparse.Namespace) -> int:
    from meshtui.kube.config import KubeError

    try:
        rows = asyncio.run(_read(args))
    except (PrometheusError, KubeError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print_json([r.as_json() for r in rows])
    else:
        print_lines(text_rows(rows))
    return 0
