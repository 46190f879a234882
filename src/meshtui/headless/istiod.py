"""`meshtui istiod`: istiod's own health (pushes, convergence, proxies, certificates), once."""

from __future__ import annotations

import argparse
import math
import time

from meshtui.headless import CommandError, print_json, print_lines, read_text
from meshtui.istiod.metrics import IstiodError, parse_metrics
from meshtui.istiod.records import summary_record
from meshtui.istiod.summary import Percentiles, Summary, summarise, summarise_replicas


def istiod_command(args: argparse.Namespace) -> int:
    if args.file:
        body = read_text(args.file, "istiod /metrics body")
        try:
            summary = summarise(parse_metrics(body), now=time.time(), replica=args.file)
        except IstiodError as exc:
            raise CommandError(f"{args.file}: {exc}") from exc
        replicas: tuple[Summary, ...] = (summary,)
        total = summary
    else:
        from meshtui.headless.istiod_live import scrape_replicas

        names, scrapes = scrape_replicas(args, lambda client: client.metrics())
        try:
            parsed = [parse_metrics(s) for s in scrapes]
            replicas, total = summarise_replicas(parsed, [None] * len(parsed), now=time.time(), names=names)
        except IstiodError as exc:
            raise CommandError(str(exc)) from exc
    if args.json:
        print_json({**summary_record(total), "replicas": [summary_record(r) for r in replicas]})
        return 0
    print_lines(summary_lines(total))
    return 0


def _ms(p: Percentiles | None) -> str:
    if p is None:
        return "-"
    text = " ".join(
        f"{name} {v * 1000:.1f}ms" for name, v in zip(("P50", "P90", "P99"), p.lifetime, strict=True)
    )
    bucket = p.one_bucket  # Prometheus's interpolation inside one bucket: say its resolution
    if bucket is not None and not math.isinf(bucket[1]):
        where = (
            f"<= {bucket[1] * 1000:g}ms" if bucket[0] == 0 else f"{bucket[0] * 1000:g}-{bucket[1] * 1000:g}ms"
        )
        text += f" (all in one bucket: {where})"
    return text


def _n(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def summary_lines(s: Summary) -> list[str]:
    proxies = ", ".join(f"{v:g} on {k}" for k, v in s.connected.items()) or "none"
    pushes = ", ".join(f"{k} {c.value:g}" for k, c in s.pushes.items()) or "-"
    cert = s.root_cert
    expiry = (
        "-"
        if cert is None
        else f"{cert.iso} ({cert.days_left:.0f} days{', WARNING' if cert.warning else ''})"
    )
    failed = s.validation_failed.value if s.validation_failed is not None else 0
    version = s.version or "(version not published: no istio_build metric)"
    return [
        f"istiod {version}  connected proxies: {proxies}",
        f"pushes: {pushes}",
        f"proxy convergence: {_ms(s.convergence)}",
        f"push time: {_ms(s.push_time)}",
        f"services {_n(s.services)}  virtual services {_n(s.virtual_services)}  "
        f"rejects {s.rejects_total:g}  validation failures {failed:g}",
        f"root certificate expires {expiry}",
    ]
