"""Reading a workload's replicas once: the same stats from each pod's Envoy at the same
moment (`/stats?type=Counters|Gauges&filter=`: two small bodies per pod, which also say
which names are counters), or each cluster's requests, errors and endpoints, what each pod
served (its inbound connection manager, or istio-proxy's `istio_requests_total` with
reporter=destination), and their total. Over time (rates, the replica that stands out):
replicas/feed.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from meshtui.envoy.admin import AdminError, EnvoyAdmin
from meshtui.envoy.clusters import parse_clusters
from meshtui.envoy.filter import StatFilter
from meshtui.live import one_line

# the requests a replica served, and its 5xx: Envoy's inbound connection manager, or
# istio-proxy's standard metric (as its stats filter names it in /stats)
SERVED = (
    r"^http\.inbound_.*\.downstream_rq_(completed|5xx)$"
    r"|^istiocustom\.istio_requests_total\.reporter\.destination\."
)


class PodsSource(Protocol):
    """Where the replicas are: kube/forwarded_pods.py, or fixed URLs in tests."""

    async def urls(self, what: str) -> list[tuple[str, str]]: ...

    def forget(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ReplicaRead:
    """One pod's stats as read once: the filtered ones, and what it served."""

    pod: str
    counters: Mapping[str, int] = field(default_factory=dict)
    gauges: Mapping[str, int] = field(default_factory=dict)
    served: tuple[int, int] | None = None  # (requests completed, of them 5xx), since the Envoy started
    error: str = ""  # why its Envoy did not answer


def parse_typed(body: str) -> dict[str, int]:
    """`/stats?type=Counters` or `Gauges` text: `name: value` lines."""
    out: dict[str, int] = {}
    for line in body.splitlines():
        name, sep, value = line.rpartition(": ")
        if sep and value.lstrip("-").isdigit():
            out[name] = int(value)
    return out


def served_of(counters: Mapping[str, int]) -> tuple[int, int] | None:
    """(requests completed, of them 5xx) from the SERVED counters, None if there are none."""
    total = errors = 0
    found = False
    for name, value in counters.items():
        if name.startswith("http.inbound_"):
            if name.endswith(".downstream_rq_completed"):
                total, found = total + value, True
            elif name.endswith(".downstream_rq_5xx"):
                errors += value
    if found:
        return total, errors
    for name, value in counters.items():
        if name.startswith("istiocustom.istio_requests_total.reporter.destination."):
            total, found = total + value, True
            if ".response_code.5" in name:
                errors += value
    return (total, errors) if found else None


# the clusters mode's figures, as stat-like names `CLUSTER<TAB>figure`: requests and errors
# are counters (rates over the window), healthy and all endpoints gauges
RQ, ERR, HEALTHY, HOSTS = "\trq", "\terr", "\thealthy", "\thosts"
CLUSTER_FIGURES = (RQ, ERR, HEALTHY, HOSTS)


def cluster_figures(body: str, keep: StatFilter) -> tuple[dict[str, int], dict[str, int]]:
    """`/clusters?format=json` -> (counters, gauges) per cluster the filter keeps: requests
    and errors summed over its endpoints (Envoy's per-host rq_total, rq_error: 5xx answers
    and failed connections), and its healthy and all endpoints."""
    counters: dict[str, int] = {}
    gauges: dict[str, int] = {}
    parsed = parse_clusters(body)
    wanted = set(keep.select([c.name for c in parsed]))
    for c in parsed:
        if c.name in wanted:
            counters[c.name + RQ] = c.total("rq_total")
            counters[c.name + ERR] = c.total("rq_error")
            gauges[c.name + HEALTHY] = c.healthy
            gauges[c.name + HOSTS] = len(c.hosts)
    return counters, gauges


async def read_replica(
    pod: str, admin: EnvoyAdmin, stat_filter: StatFilter, clusters: bool = False
) -> ReplicaRead:
    """One pod's figures; an Envoy that does not answer is said, not raised."""
    if clusters:
        try:
            inbound = parse_typed(await admin.stats_get({"type": "Counters", "filter": SERVED}))
            by_cluster, endpoints = cluster_figures(await admin.clusters_json(), stat_filter)
        except (AdminError, ValueError) as exc:  # ValueError: not a /clusters answer
            return ReplicaRead(pod, error=one_line(exc))
        return ReplicaRead(pod, by_cluster, endpoints, served_of(inbound))
    user = stat_filter.envoy_param()
    only = {"filter": user} if user else {}
    # no filter: every counter, SERVED among them; else the user's and SERVED in one body
    counters_only = {"filter": f"(?:{user})|(?:{SERVED})"} if user else {}
    try:
        counters_body = await admin.stats_get({"type": "Counters", **counters_only})
        gauges_body = await admin.stats_get({"type": "Gauges", **only})
    except AdminError as exc:
        return ReplicaRead(pod, error=one_line(exc))
    counters = parse_typed(counters_body)
    served = served_of(counters)
    if user is not None:  # the SERVED names were read for the summary, not for the rows
        counters = {n: counters[n] for n in stat_filter.select(list(counters))}
    return ReplicaRead(pod, counters, parse_typed(gauges_body), served)


async def read_replicas(
    urls: Iterable[tuple[str, str]],
    stat_filter: StatFilter,
    clients: dict[str, EnvoyAdmin] | None = None,
    clusters: bool = False,
) -> list[ReplicaRead]:
    """Every pod at once (within one poll of each other). `clients` are kept between polls."""
    owned = clients is None
    kept: dict[str, EnvoyAdmin] = {} if clients is None else clients
    pairs = list(urls)
    try:
        for _, url in pairs:
            if url not in kept:
                kept[url] = EnvoyAdmin(url)
        reads = (read_replica(pod, kept[url], stat_filter, clusters) for pod, url in pairs)
        return list(await asyncio.gather(*reads))
    finally:
        if owned:
            for admin in kept.values():
                await admin.aclose()


# gauges whose sum over replicas means nothing: a config version hash, a time stamp, a
# state, the Envoy's own age and settings. They have no total (the TOTAL column says -).
NOT_SUMMED = frozenset(
    (
        "version",
        "update_time",
        "config_reload_time_ms",
        "uptime",
        "hot_restart_epoch",
        "hot_restart_generation",
        "state",
        "concurrency",
        "days_until_first_cert_expiring",
        "seconds_until_first_ocsp_response_expiring",
    )
)


def summed(name: str, is_counter: bool) -> bool:
    return is_counter or name.rpartition(".")[2] not in NOT_SUMMED


def total_of(reads: Iterable[ReplicaRead]) -> dict[str, int]:
    """Every counter's sum, and every gauge's that a sum makes sense of (NOT_SUMMED)."""
    out: dict[str, int] = {}
    for r in reads:
        for name, value in r.counters.items():
            out[name] = out.get(name, 0) + value
        for name, value in r.gauges.items():
            if summed(name, False):
                out[name] = out.get(name, 0) + value
    return out
