"""`meshtui clusters`: a sidecar's clusters and endpoints with their health, once."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from meshtui.envoy.clusters import (
    NAME_COLUMNS,
    ClustersFormatError,
    ClusterStatus,
    cluster_record,
    name_cells,
    parse_clusters,
)
from meshtui.headless import CommandError, live, print_json, print_lines, read_text, table

if TYPE_CHECKING:
    from meshtui.envoy.admin import EnvoyAdmin


def clusters_command(args: argparse.Namespace) -> int:
    if args.file:
        body = read_text(args.file, "/clusters?format=json body")
        try:
            clusters = parse_clusters(body)
        except ClustersFormatError as exc:
            raise CommandError(f"{args.file}: {exc}") from exc
    else:

        async def work(admin: EnvoyAdmin) -> list[ClusterStatus]:
            return parse_clusters(await admin.clusters_json())

        clusters = live(args, work)
    if args.json:
        print_json([cluster_record(c) for c in clusters])
        return 0
    rows = [(*name_cells(c), str(c.total("rq_total")), str(c.total("rq_error"))) for c in clusters]
    print_lines(table(rows, (*NAME_COLUMNS, "RQ TOTAL", "RQ ERROR")))
    return 0
