"""`meshtui stats`: a sidecar's Envoy stats, once."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from meshtui.envoy.filter import FilterError, StatFilter
from meshtui.envoy.stats import StatsFormatError, parse_json, text_records
from meshtui.headless import ENVOY_ADMIN_PORT, CommandError, live, print_json, print_lines, read_text, table

if TYPE_CHECKING:
    from meshtui.envoy.admin import EnvoyAdmin


def _keep(prefix: str | None) -> Callable[[str], bool] | None:
    if not prefix:
        return None
    f = StatFilter(prefix)
    if f.is_regex:
        try:
            search = f.compiled.search  # type: ignore[union-attr]
        except FilterError as exc:
            raise CommandError(str(exc)) from exc
        return lambda name: search(name) is not None
    return lambda name: name.startswith(f.pattern)


def body_records(body: str, prefix: str | None, kinds: Any = None) -> list[dict[str, object]]:
    keep = _keep(prefix)
    if body.lstrip()[:1] == "{":
        recs = [s.to_json() for s in parse_json(body) if keep is None or keep(s.name)]
    else:
        recs = text_records(body, keep)
    if kinds is not None:
        for rec in recs:
            if rec["kind"] == "unknown":
                rec["kind"] = kinds.kind_of(rec["name"], str(rec["value"]))
    return recs


def format_text(recs: list[dict[str, Any]]) -> list[str]:
    lines = []
    for rec in recs:
        if rec["kind"] == "histogram":
            q = rec.get("quantiles") or {}
            if not q:
                shown = "No recorded values"
            else:
                shown = (
                    "  ".join(
                        f"{label}={_num(v['interval'])}/{_num(v['cumulative'])}"
                        for label, v in q.items()
                        if label in ("P50", "P90", "P99")
                    )
                    + "  (interval/cumulative)"
                )
            lines.append(f"{rec['name']}: {shown}")
        elif rec["kind"] == "text":
            lines.append(f'{rec["name"]}: "{rec["value"]}"')
        else:
            lines.append(f"{rec['name']}: {rec['value']}")
    return lines


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:g}"


def stats_command(args: argparse.Namespace) -> int:
    from meshtui.kube.workload import deployment_name

    if args.selector or (args.pod and deployment_name(args.pod)):
        return replicas_command(args)
    if not (args.file or args.pod or args.admin):
        raise CommandError(
            "stats needs --file PATH, POD -n NAMESPACE, --admin URL, "
            "or a workload: deploy/NAME or -l SELECTOR"
        )
    if args.file:
        body = read_text(args.file, "/stats body")
        try:
            recs = body_records(body, args.prefix)
        except StatsFormatError as exc:
            raise CommandError(f"{args.file}: not an Envoy /stats body: {exc}") from exc
    else:
        f = StatFilter(args.prefix or "")

        async def work(admin: EnvoyAdmin) -> list[dict[str, object]]:
            kinds = await admin.stat_kinds(f.envoy_param())
            return body_records(await admin.stats_text(f.envoy_param()), args.prefix, kinds)

        recs = live(args, work)
    if args.json:
        print_json(recs)
    else:
        print_lines(format_text(recs))
    return 0


def replicas_command(args: argparse.Namespace) -> int:
    """`stats deploy/NAME -n NS` or `stats -l SELECTOR -n NS`: every running replica's
    stats, read at once, and their total."""
    import asyncio

    from meshtui.envoy.admin import AdminError
    from meshtui.kube.config import KubeError
    from meshtui.kube.workload import WorkloadError

    if args.file or args.admin:
        raise CommandError("stats deploy/NAME or -l SELECTOR reads pods: --file and --admin do not apply")
    if args.selector and args.pod:
        raise CommandError(
            f"give deploy/NAME or -l SELECTOR, not both ({args.pod!r} and -l {args.selector!r})"
        )
    if not args.namespace:
        raise CommandError("stats deploy/NAME or -l SELECTOR needs -n/--namespace")
    try:
        f = StatFilter(args.prefix or "")
        if f.is_regex:
            f.compiled  # noqa: B018 - a bad regex is said before any pod is read
    except FilterError as exc:
        raise CommandError(str(exc)) from exc
    try:
        pods, total = asyncio.run(_replicas(args, f))
    except (AdminError, KubeError, WorkloadError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print_json({"pods": pods, "total": total})
        return 0
    header = ("STAT", *pods, "TOTAL")
    names = sorted({n for values in pods.values() for n in values})
    rows = [(n, *(str(v.get(n, "-")) for v in pods.values()), str(total.get(n, "-"))) for n in names]
    print_lines(table(rows, header))
    return 0


async def _replicas(
    args: argparse.Namespace, f: StatFilter
) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    from meshtui.headless import cluster
    from meshtui.kube.forwarded_pods import ForwardedPods
    from meshtui.kube.workload import Workload, WorkloadError, deployment, deployment_name
    from meshtui.replicas.read import read_replicas, total_of

    async with cluster(args) as (target, manager):
        name = deployment_name(args.pod or "")
        if name:
            workload = await deployment(target, args.namespace, name)
        else:
            workload = Workload(args.namespace, args.selector, args.selector)
        pods = ForwardedPods(
            target, manager, args.namespace, workload.selector, ENVOY_ADMIN_PORT, WorkloadError
        )
        try:
            urls = await pods.urls(f"the pods of {workload.title}")
            if not urls:
                raise WorkloadError(f"{workload.title}: no running pod matches {workload.selector}")
            reads = await read_replicas(urls, f)
        finally:
            await pods.close()
    failed = [r for r in reads if r.error]
    if failed:
        raise WorkloadError(f"{failed[0].pod}: {failed[0].error}")
    return {r.pod: {**r.counters, **r.gauges} for r in reads}, total_of(reads)
