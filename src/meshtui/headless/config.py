"""`meshtui config`: one section of what a sidecar was told (`/config_dump`), once."""

from __future__ import annotations

from typing import Any

from meshtui.envoy.config_dump import ConfigDumpError, parse_config_dump, public, rows
from meshtui.headless import CommandError, live, print_json, print_lines, read_text, table

# what istioctl proxy-config shows first, per section
COLUMNS = {
    "listeners": ("name", "address", "port", "state", "destination", "version"),
    "routes": ("route_config", "virtual_host", "domains", "match", "destination"),
    "clusters": ("service", "port", "subset", "direction", "type", "state", "version"),
    "bootstrap": ("key", "value"),
    "secrets": ("name", "kind", "spiffe_id", "issuer", "not_after", "expires_in"),
}


def config_command(args: Any) -> int:
    if args.file:
        body = read_text(args.file, "/config_dump body")
    else:

        async def work(admin: Any) -> str:
            return str(await admin.config_dump({"include_eds": ""}))

        body = live(args, work)
    try:
        found = [public(r) for r in rows(parse_config_dump(body), args.section)]
    except ConfigDumpError as exc:
        raise CommandError(f"{args.file or 'config_dump'}: {exc}") from exc
    if args.json:
        print_json(found)
        return 0
    cols = COLUMNS[args.section]
    shown = [tuple(str(r.get(c, "")) or "-" for c in cols) for r in found]
    print_lines(table(shown, tuple(c.upper().replace("_", " ") for c in cols)))
    return 0
