"""Headless commands for scripts and offline work: print once, exit 0, or one line and exit 2."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meshtui.envoy.filter import FilterError, StatFilter
from meshtui.envoy.stats import Stat, StatsFormatError, parse_json, stat_from_raw, text_records

EXIT_USAGE = 2


class CommandError(Exception):
    """Ends a headless command with one line on stderr and exit status 2."""


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
        stats = parse_json(body)
        recs = [s.to_json() for s in stats if keep is None or keep(s.name)]
    else:
        recs = text_records(body, keep)
    if kinds is not None:
        for rec in recs:
            if rec["kind"] == "unknown":
                rec["kind"] = kinds.kind_of(rec["name"], str(rec["value"]))
    return recs


def format_text(recs: list[dict[str, Any]]) -> str:
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
    return "\n".join(lines)


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:g}"


def emit(recs: list[dict[str, Any]], as_json: bool) -> None:
    out = json.dumps(recs, indent=None) if as_json else format_text(recs)
    sys.stdout.write(out + "\n")


def stats_from_file(path: str, prefix: str | None, as_json: bool) -> int:
    try:
        body = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not text (UTF-8): not a saved /stats body") from exc
    try:
        recs = body_records(body, prefix)
    except StatsFormatError as exc:
        raise CommandError(f"{path}: not an Envoy /stats body: {exc}") from exc
    emit(recs, as_json)
    return 0


async def _live_stats(admin_url: str, prefix: str | None) -> list[dict[str, object]]:
    from meshtui.envoy.admin import EnvoyAdmin

    f = StatFilter(prefix or "")
    admin = EnvoyAdmin(admin_url)
    try:
        kinds = await admin.stat_kinds(f.envoy_param())
        body = await admin.stats_text(f.envoy_param())
    finally:
        await admin.aclose()
    return body_records(body, prefix, kinds)


async def _through_forward(args: Any) -> list[dict[str, object]]:
    from meshtui.kube import config
    from meshtui.kube.portforward import ForwardManager

    target = config.load(args.kubeconfig, args.context)
    namespace = args.namespace
    if not namespace:
        raise CommandError("stats POD needs -n/--namespace")
    manager = ForwardManager(target)
    try:
        fwd = await manager.acquire(namespace, args.pod, 15000)
        if not await fwd.probe():
            raise CommandError(f"port-forward to {namespace}/{args.pod}:15000 failed: {fwd.status.reason}")
        return await _live_stats(fwd.url, args.prefix)
    finally:
        await manager.close()


def stats_live(args: Any) -> int:
    from meshtui.envoy.admin import AdminError
    from meshtui.kube.config import KubeError

    try:
        if args.admin:
            recs = asyncio.run(_live_stats(args.admin, args.prefix))
        else:
            recs = asyncio.run(_through_forward(args))
    except (AdminError, KubeError, StatsFormatError) as exc:
        raise CommandError(str(exc)) from exc
    emit(recs, args.json)
    return 0


def stats_command(args: Any) -> int:
    if args.file:
        return stats_from_file(args.file, args.prefix, args.json)
    if args.pod or args.admin:
        return stats_live(args)
    raise CommandError("stats needs --file PATH, POD -n NAMESPACE, or --admin URL")


__all__ = ["CommandError", "Stat", "stat_from_raw", "stats_command"]
