"""`meshtui stats`: a sidecar's Envoy stats, once."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from meshtui.envoy.filter import FilterError, StatFilter
from meshtui.envoy.stats import StatsFormatError, parse_json, text_records
from meshtui.headless import CommandError, live, print_json, print_lines, read_text

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
