"""`meshtui config`: one section of what a sidecar was told (`/config_dump`), once; and
`--section tracing`, the tracer next to its collector's answers, as the Config tab shows."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from meshtui.envoy.config_dump import (
    ConfigDumpError,
    bootstrap_of,
    parse_config_dump,
    public,
    rows,
    sampling_of,
)
from meshtui.envoy.tracing_health import TracingHealth, assess, read_tracing_health
from meshtui.headless import CommandError, live, print_json, print_lines, read_text, table

if TYPE_CHECKING:
    from meshtui.envoy.admin import EnvoyAdmin

# what istioctl proxy-config shows first, per section
COLUMNS = {
    "listeners": ("name", "address", "port", "state", "destination", "version"),
    "routes": ("route_config", "virtual_host", "domains", "match", "destination"),
    "clusters": ("service", "port", "subset", "direction", "type", "state", "version"),
    "bootstrap": ("key", "value"),
    "secrets": ("name", "kind", "spiffe_id", "issuer", "not_after", "expires_in"),
    "tracing": ("check", "value", "verdict"),
}
SECTIONS = tuple(COLUMNS)
# a saved dump has no counters: the collector's answers need a live sidecar
NO_COUNTERS = "span reports: not in a saved /config_dump (read a live sidecar for them)"


def config_command(args: argparse.Namespace) -> int:
    health: TracingHealth | None = None
    if args.file:
        body = read_text(args.file, "/config_dump body")
    else:

        async def work(admin: EnvoyAdmin) -> tuple[str, TracingHealth | None]:
            body = str(await admin.config_dump({"include_eds": ""}))
            if args.section != "tracing":
                return body, None
            return body, await read_tracing_health(admin, bootstrap_of(parse_config_dump(body)))

        body, health = live(args, work)
    try:
        doc = parse_config_dump(body)
        if args.section == "tracing":
            found, problems = _tracing(doc, health)
        else:
            found, problems = [public(r) for r in rows(doc, args.section)], []
    except ConfigDumpError as exc:
        raise CommandError(f"{args.file or 'config_dump'}: {exc}") from exc
    if args.json:
        print_json(found)
        return 0
    cols = COLUMNS[args.section]
    shown = [tuple(str(r.get(c, "")) or "-" for c in cols) for r in found]
    print_lines(table(shown, tuple(c.upper().replace("_", " ") for c in cols)) + [f"✗ {p}" for p in problems])
    return 0


def _tracing(doc: dict[str, Any], health: TracingHealth | None) -> tuple[list[dict[str, Any]], list[str]]:
    saved = health is None
    if health is None:
        health = assess(bootstrap_of(doc), {})
    found: list[dict[str, Any]] = list(health.rows(sampling_of(doc)))
    if saved and health.configured:
        found = [r for r in found if r["check"] != "span reports by status"]
        found.append({"check": "span reports by status", "value": "-", "verdict": NO_COUNTERS})
    return found, list(health.problems)
