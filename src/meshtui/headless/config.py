"""`meshtui config`: one section of what a sidecar was told (`/config_dump`), once, with the
rows and values of `istioctl proxy-config <section>` (`all`: every section, like
`proxy-config all`); and `--section tracing`, the tracer next to its collector's answers,
as the Config tab shows."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from meshtui.envoy.config_dump import (
    COLUMNS,
    SECTIONS,
    ConfigDumpError,
    bootstrap_of,
    cell,
    parse_config_dump,
    public,
    rows,
    sampling_of,
)
from meshtui.envoy.config_eds import EndpointFilter
from meshtui.envoy.tracing_health import TracingHealth, assess, read_tracing_health
from meshtui.headless import CommandError, live, print_json, print_lines, read_text, table

if TYPE_CHECKING:
    from meshtui.envoy.admin import EnvoyAdmin

# a saved dump has no counters: the collector's answers need a live sidecar
NO_COUNTERS = "span reports: not in a saved /config_dump (read a live sidecar for them)"


def config_command(args: argparse.Namespace) -> int:
    if args.diff:
        if args.file or args.pod or args.admin or args.section:
            raise CommandError(
                "config --diff OLD NEW reads the two files only (no --section, --file, POD or --admin)"
            )
        return _diff(*args.diff, as_json=args.json)
    if not args.section:
        raise CommandError("config needs --section S (or --diff OLD NEW): see meshtui config --help")
    only = _endpoint_filter(args)
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
    shown = SECTIONS if args.section == "all" else (args.section,)
    try:
        doc = parse_config_dump(body)
        if args.section == "tracing":
            found, problems = _tracing(doc, health)
            tables = {"tracing": found}
        else:
            tables, problems = {s: [public(r) for r in rows(doc, s, endpoints=only)] for s in shown}, []
    except ConfigDumpError as exc:
        raise CommandError(f"{args.file or 'config_dump'}: {exc}") from exc
    if args.json:
        print_json(tables if args.section == "all" else next(iter(tables.values())))
        return 0
    lines: list[str] = []
    for name, found in tables.items():
        if args.section == "all":
            lines += [*([""] if lines else []), f"------ {name.upper()} ------"]
        cols = COLUMNS[name]
        cells = [tuple(cell(r.get(key, "")) for key, _ in cols) for r in found]
        lines += table(cells, tuple(header for _, header in cols))
    print_lines(lines + [f"✗ {p}" for p in problems])
    return 0


def _endpoint_filter(args: argparse.Namespace) -> EndpointFilter | None:
    """istioctl proxy-config endpoint's --address, --port, --status and --cluster."""
    given = {k: getattr(args, k, None) for k in ("address", "port", "status", "cluster")}
    if not any(given.values()):
        return None
    if args.section not in ("endpoints", "all"):
        flags = ", ".join(f"--{k}" for k, v in given.items() if v)
        raise CommandError(f"{flags} narrow the endpoints: use them with --section endpoints or all")
    return EndpointFilter(
        address=given["address"] or "",
        port=given["port"] or 0,
        cluster=given["cluster"] or "",
        status=given["status"] or "",
    )


def _tracing(doc: dict[str, Any], health: TracingHealth | None) -> tuple[list[dict[str, Any]], list[str]]:
    saved = health is None
    if health is None:
        health = assess(bootstrap_of(doc), {})
    found: list[dict[str, Any]] = list(health.rows(sampling_of(doc)))
    if saved and health.configured:
        found = [r for r in found if r["check"] != "span reports by status"]
        found.append({"check": "span reports by status", "value": "-", "verdict": NO_COUNTERS})
    return found, list(health.problems)


def _diff(old: str, new: str, *, as_json: bool) -> int:
    """`meshtui config --diff OLD NEW`: one line per resource that changed (envoy/config_changes.py)."""
    import json

    from meshtui.envoy.config_changes import config_changes

    docs = []
    for path in (old, new):
        try:
            doc = json.loads(read_text(path, "/config_dump body"))
        except ValueError as exc:
            raise CommandError(f"{path}: not JSON ({exc})") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("configs"), list):
            raise CommandError(f"{path}: not a /config_dump (no configs list)")
        docs.append(doc)
    found = config_changes(docs[0], docs[1])
    if as_json:
        print_json([c.as_json() for c in found])
    else:
        print_lines([c.line() for c in found] or ["no change"])
    return 0
