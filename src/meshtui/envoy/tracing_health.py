"""Is this sidecar's tracer delivering spans? The bootstrap's tracer next to its
collector cluster's request counters.

A wrong collector endpoint in a custom bootstrap makes traces vanish silently:
Envoy keeps posting spans, the collector answers 404, and nothing else says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from meshtui.envoy.admin import EnvoyAdmin
from meshtui.envoy.config_dump import bootstrap_of, parse_config_dump, tracing_of

ZIPKIN_V2 = "/api/v2/spans"
ZIPKIN_PATHS = (ZIPKIN_V2, "/api/v1/spans")  # what Zipkin (and Jaeger's Zipkin port) serve
_CODE = re.compile(r"\.upstream_rq_(\d{3})$")


@dataclass(frozen=True)
class TracingHealth:
    provider: str = ""
    collector_cluster: str = ""
    collector_endpoint: str = ""
    endpoint_version: str = ""
    trace_id_128bit: bool = False
    reports: int = 0  # requests to the collector cluster
    by_code: dict[str, int] = field(default_factory=dict)  # "202": 10, "404": 3
    problems: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        return bool(self.provider)

    @property
    def failed_reports(self) -> int:
        return sum(n for code, n in self.by_code.items() if not code.startswith("2"))

    def rows(self, sampling: list[float] | None = None) -> list[dict[str, str]]:
        """check / value / verdict, for the config pane's tracing section, failing first.

        `sampling`: the percentages the listeners apply, when the config dump shows them."""
        if not self.configured:
            return [
                {"check": "tracer", "value": "none in the bootstrap", "verdict": "no traces from this proxy"}
            ]
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(self.by_code.items())) or "none yet"
        endpoint_ok = self.collector_endpoint in ZIPKIN_PATHS or "zipkin" not in self.provider
        checks = [
            {"check": "provider", "value": self.provider, "verdict": "ok"},
            {"check": "collector cluster", "value": self.collector_cluster, "verdict": "ok"},
            {
                "check": "collector endpoint",
                "value": self.collector_endpoint,
                "verdict": "ok" if endpoint_ok else f"WRONG? Zipkin collectors take {ZIPKIN_V2}",
            },
            {"check": "endpoint version", "value": self.endpoint_version or "-", "verdict": "ok"},
            {"check": "128-bit trace ids", "value": "yes" if self.trace_id_128bit else "no", "verdict": "ok"},
            {
                "check": "sampling",
                "value": ", ".join(f"{s:g}%" for s in sampling) if sampling else "not visible",
                "verdict": "no requests are traced" if sampling == [0.0] else "ok",
            },
            {
                "check": "span reports by status",
                "value": codes,
                "verdict": "FAILING" if self.failed_reports else ("ok" if self.reports else "no reports yet"),
            },
        ]
        # the checks that fail first: at 80x24 the table shows two or three rows
        return sorted(checks, key=lambda row: row["verdict"] == "ok")


def assess(bootstrap: dict[str, Any], collector_stats: dict[str, int]) -> TracingHealth:
    """`collector_stats`: `cluster.<collector>.upstream_rq_*` counters of the same sidecar."""
    t = tracing_of(bootstrap)
    if not t:
        return TracingHealth(problems=("no tracer in the bootstrap: this proxy reports no spans",))
    by_code = {m.group(1): n for name, n in collector_stats.items() if (m := _CODE.search(name)) and n}
    reports = next((n for name, n in collector_stats.items() if name.endswith(".upstream_rq_total")), 0)
    health = TracingHealth(
        provider=t["provider"],
        collector_cluster=t["collector_cluster"],
        collector_endpoint=t["collector_endpoint"],
        endpoint_version=t["collector_endpoint_version"],
        trace_id_128bit=t["trace_id_128bit"],
        reports=reports,
        by_code=by_code,
    )
    problems = []
    if health.failed_reports:
        worst = max((c for c in by_code if not c.startswith("2")), key=lambda c: by_code[c])
        problems.append(
            f"the collector answered {worst} to {health.failed_reports} of {reports} span reports: "
            f"spans are lost (endpoint {health.collector_endpoint} on cluster {health.collector_cluster})"
        )
    if "zipkin" in health.provider and health.collector_endpoint not in ZIPKIN_PATHS:
        problems.append(f"collector endpoint {health.collector_endpoint} is not Zipkin's {ZIPKIN_V2}")
    return TracingHealth(**{**health.__dict__, "problems": tuple(problems)})


def collector_filter(cluster: str) -> str:
    """The /stats?filter= for one collector cluster's per-status request counters."""
    from meshtui.envoy.filter import re2_escape

    return "^cluster\\." + re2_escape(cluster) + "\\.upstream_rq_(total|\\d{3})$"


async def read_tracing_health(admin: EnvoyAdmin, bootstrap: dict[str, Any] | None = None) -> TracingHealth:
    """The tracer and its collector cluster's counters, read from one sidecar.

    Pass the bootstrap when a full /config_dump is already in hand; otherwise only its
    `tracing` is fetched (`?mask=bootstrap.tracing`)."""
    if bootstrap is None:
        bootstrap = bootstrap_of(parse_config_dump(await admin.config_dump({"mask": "bootstrap.tracing"})))
    collector = tracing_of(bootstrap).get("collector_cluster", "")
    counters: dict[str, int] = {}
    if collector:
        for line in (await admin.stats_text(collector_filter(collector))).splitlines():
            name, _, value = line.partition(": ")
            if value.isdigit():
                counters[name] = int(value)
    return assess(bootstrap, counters)
