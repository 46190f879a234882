"""`meshtui syncz`: every proxy's xDS sync status with istiod, like `istioctl proxy-status`."""

from __future__ import annotations

import argparse

from meshtui.headless import CommandError, print_json, print_lines, read_text, table
from meshtui.istiod.metrics import IstiodError
from meshtui.istiod.syncz import XDS_COLUMNS, ProxySync, parse_syncz, sort_rows, sync_record


def syncz_command(args: argparse.Namespace) -> int:
    if args.file:
        body = read_text(args.file, "/debug/syncz body")
        try:
            rows = parse_syncz(body)
        except IstiodError as exc:
            raise CommandError(f"{args.file}: {exc}") from exc
    else:
        from meshtui.headless.istiod_live import scrape_replicas

        names, bodies = scrape_replicas(args, lambda client: client.syncz())
        try:
            rows = sort_rows(
                r for name, body in zip(names, bodies, strict=True) for r in parse_syncz(body, name)
            )
        except IstiodError as exc:
            raise CommandError(str(exc)) from exc
    if args.json:
        print_json([sync_record(r) for r in rows])
        return 0
    print_lines(table([_row(r) for r in rows], ("NAME", "CLUSTER", *XDS_COLUMNS, "ISTIOD", "VERSION")))
    for r in rows:
        for col, message in r.nacks:
            print_lines([f"{r.proxy} {col} NACK: {message}"])
    return 0


def _row(r: ProxySync) -> tuple[str, ...]:
    return (r.proxy, r.cluster_id or "-", *(s.status for s in r.statuses), r.istiod or "-", r.version or "-")
