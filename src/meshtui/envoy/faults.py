"""Which clusters a fault filter aborts or delays requests to (Istio's VirtualService
`fault`), and how many it has: the route configuration's `envoy.filters.http.fault`
per-route config next to the connection managers' `fault.*_injected` counters.

A request a fault aborts is answered inside the caller's Envoy: it never reaches the
cluster, so the cluster's own counters (RQ/S, errors) do not see it. Without this the
row a user checks for a 100% abort read as idle.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

FAULT_FILTER = "envoy.filters.http.fault"
_DENOMINATOR = {"HUNDRED": 100, "TEN_THOUSAND": 10_000, "MILLION": 1_000_000}
COUNTERS_FILTER = r"\.fault\.(aborts|delays)_injected$"
_COUNTER = re.compile(r"\.fault\.(aborts|delays)_injected: (\d+)$")


@dataclass(frozen=True, slots=True)
class Fault:
    route: str  # route config / virtual host, where it is configured
    abort_pct: float = 0.0
    abort_status: int = 0
    delay_pct: float = 0.0
    delay: str = ""

    @property
    def summary(self) -> str:
        parts = []
        if self.abort_pct:
            parts.append(f"{self.abort_pct:g}% aborted with {self.abort_status}")
        if self.delay_pct:
            parts.append(f"{self.delay_pct:g}% delayed {self.delay}")
        return ", ".join(parts)


def _percent(p: Mapping[str, Any] | None) -> float:
    if not p:
        return 100.0  # FractionalPercent absent: Envoy applies the fault to every request
    n = float(p.get("numerator", 0))
    return 100.0 * n / _DENOMINATOR.get(str(p.get("denominator", "HUNDRED")), 100)


def _fault(config: Mapping[str, Any], where: str) -> Fault | None:
    abort, delay = config.get("abort") or {}, config.get("delay") or {}
    if not abort and not delay:
        return None
    return Fault(
        route=where,
        abort_pct=_percent(abort.get("percentage")) if abort else 0.0,
        abort_status=int(abort.get("http_status", 0) or 0) if abort else 0,
        delay_pct=_percent(delay.get("percentage")) if delay else 0.0,
        delay=str(delay.get("fixed_delay", "")) if delay else "",
    )


def _route_configs(doc: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for section in doc.get("configs") or []:
        kind = str(section.get("@type", ""))
        if kind.endswith(("DynamicRouteConfig", "StaticRouteConfig")):  # ?resource=: one per item
            if isinstance(section.get("route_config"), Mapping):
                yield section["route_config"]
            continue
        if not kind.endswith("RoutesConfigDump"):
            continue
        for item in [
            *(section.get("static_route_configs") or []),
            *(section.get("dynamic_route_configs") or []),
        ]:
            if isinstance(item.get("route_config"), Mapping):
                yield item["route_config"]


def route_faults(doc: Mapping[str, Any]) -> dict[str, Fault]:
    """cluster name -> the fault its routes apply (a route's own config over its virtual host's)."""
    out: dict[str, Fault] = {}
    for rc in _route_configs(doc):
        for vh in rc.get("virtual_hosts") or []:
            where = f"{rc.get('name', '')} / {vh.get('name', '')}"
            host_fault = (vh.get("typed_per_filter_config") or {}).get(FAULT_FILTER)
            for route in vh.get("routes") or []:
                config = (route.get("typed_per_filter_config") or {}).get(FAULT_FILTER) or host_fault
                fault = _fault(config, where) if isinstance(config, Mapping) else None
                if fault is None:
                    continue
                action = route.get("route") or {}
                clusters = [action["cluster"]] if action.get("cluster") else []
                clusters += [c["name"] for c in (action.get("weighted_clusters") or {}).get("clusters") or []]
                for cluster in clusters:
                    out.setdefault(cluster, fault)
    return out


def injected(stats: str) -> tuple[int, int]:
    """(aborts, delays) injected, summed over the connection managers (`/stats` text)."""
    aborts = delays = 0
    for line in stats.splitlines():
        m = _COUNTER.search(line)
        if m:
            if m.group(1) == "aborts":
                aborts += int(m.group(2))
            else:
                delays += int(m.group(2))
    return aborts, delays
