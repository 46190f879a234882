"""Envoy's `/clusters?format=json`: clusters, their endpoints (hosts) and host health.

Counter values are strings there and zero values are left out; older Envoys mix in
camelCase keys (`hostStatuses`, `healthStatus.edsHealthStatus`): both are accepted.
Cluster names are read the way `istioctl proxy-config cluster` reads them:
`outbound|80|v1|catalog.istioinaction.svc.cluster.local` -> direction, port, subset, FQDN.
"""

from __future__ import annotations

import collections
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple


class ClustersFormatError(ValueError):
    """Not Envoy's /clusters?format=json."""


# Clusters and hosts are NamedTuples holding only strings, numbers and tuples: the cyclic
# GC stops tracking such tuples, so thousands of them per refresh add nothing to its full
# passes (as slotted dataclasses they did: 60-80 ms pauses at 2,000 clusters).


class IstioClusterName(NamedTuple):
    direction: str  # "outbound", "inbound", or "" for Envoy's own clusters (xds-grpc, zipkin)
    port: str
    subset: str
    service: str  # the FQDN, or the whole name when it is not Istio's form


def parse_cluster_name(name: str) -> IstioClusterName:
    parts = name.split("|")
    if len(parts) == 4 and parts[0] in ("outbound", "inbound", "inbound-vip"):
        return IstioClusterName(parts[0], parts[1], parts[2], parts[3])
    return IstioClusterName("", "", "", name)


@functools.cache
def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(w.title() for w in rest)


def proto_field(d: Mapping[str, Any], snake: str, default: Any = None) -> Any:
    """A field by its snake_case name, or the camelCase an older Envoy printed."""
    if snake in d:
        return d[snake]
    return d.get(_camel(snake), default)


class HostHealth(NamedTuple):
    address: str  # ip:port, or a pipe path
    eds_health: str  # HEALTHY, UNHEALTHY, DRAINING, TIMEOUT, DEGRADED, UNKNOWN
    failed_active_hc: bool
    outlier_ejected: bool
    weight: int
    locality: str  # region/zone/subzone, "-" when unset
    counters: tuple[tuple[str, int], ...] = ()  # (rq_total, 7), (rq_error, 1), ... zeros left out

    @property
    def healthy(self) -> bool:
        return self.eds_health in ("HEALTHY", "UNKNOWN") and not (
            self.failed_active_hc or self.outlier_ejected
        )

    @property
    def health(self) -> str:
        """What `istioctl proxy-config endpoint` calls STATUS, with the reason when not healthy."""
        flags = [
            f
            for f, on in (
                ("outlier-ejected", self.outlier_ejected),
                ("failed-active-hc", self.failed_active_hc),
            )
            if on
        ]
        return self.eds_health + (f" ({', '.join(flags)})" if flags else "")

    def get(self, counter: str) -> int:
        for name, value in self.counters:
            if name == counter:
                return value
        return 0


class ClusterStatus(NamedTuple):
    name: str
    istio: IstioClusterName
    hosts: tuple[HostHealth, ...]
    added_via_api: bool = False

    @property
    def healthy(self) -> int:
        return sum(1 for h in self.hosts if h.healthy)

    def total(self, counter: str) -> int:
        return sum(h.get(counter) for h in self.hosts)


def _address(addr: Mapping[str, Any]) -> str:
    sock = proto_field(addr, "socket_address")
    if sock:
        host = sock.get("address", "")
        port = proto_field(sock, "port_value", "")
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    pipe = addr.get("pipe")
    if pipe:
        return str(pipe.get("path", "pipe"))
    envoy_internal = proto_field(addr, "envoy_internal_address")
    if envoy_internal:
        return "internal:" + str(proto_field(envoy_internal, "server_listener_name", ""))
    return "?"


def _host(h: Mapping[str, Any]) -> HostHealth:
    health = proto_field(h, "health_status", {}) or {}
    counters: list[tuple[str, int]] = []
    for stat in h.get("stats", []):
        name = stat.get("name") if isinstance(stat, dict) else None
        try:
            value = int(stat.get("value", 0)) if isinstance(name, str) else 0  # zero values are left out
        except (TypeError, ValueError, OverflowError):
            continue
        if value:
            counters.append((str(name), value))
    loc = h.get("locality") or {}
    locality = "/".join(p for p in (loc.get("region", ""), loc.get("zone", ""), loc.get("sub_zone", "")) if p)
    return HostHealth(
        address=_address(h.get("address") or {}),
        eds_health=str(proto_field(health, "eds_health_status", "UNKNOWN")),
        failed_active_hc=bool(proto_field(health, "failed_active_health_check", False)),
        outlier_ejected=bool(proto_field(health, "failed_outlier_check", False)),
        weight=int(h.get("weight", 1) or 1),
        locality=locality or "-",
        counters=tuple(counters),
    )


_HEAD = '{\n "cluster_statuses": [\n  {'
_SEP = "\n  },\n  {"
_TAIL = "\n  }\n ]\n}"


def _cluster_objects(body: str) -> list[Any]:
    """The cluster objects of the body.

    Envoy pretty-prints this body; split at its top-level `},{` and each cluster is
    decoded on its own. One json.loads of a 6 MB body (2,000 clusters) holds the GIL
    for ~60 ms, stalling the UI thread; small pieces let it in between. Any other
    layout (older Envoy, camelCase, a saved file) is decoded whole.
    """
    text = body.strip()
    if text.startswith(_HEAD) and text.endswith(_TAIL):
        inner = text[len(_HEAD) : -len(_TAIL)]
        try:
            return [json.loads("{" + piece + "}") for piece in inner.split(_SEP)]
        except (ValueError, RecursionError):
            pass  # not the layout we thought: decode it whole below
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ClustersFormatError("not JSON: /clusters?format=json expected") from exc
    statuses = proto_field(doc, "cluster_statuses") if isinstance(doc, dict) else None
    if not isinstance(statuses, list):
        raise ClustersFormatError("not Envoy's /clusters?format=json (no cluster_statuses)")
    return statuses


def parse_clusters(body: str) -> list[ClusterStatus]:
    statuses = _cluster_objects(body)
    out = []
    try:
        for c in statuses:
            name = c["name"]
            hosts = tuple(_host(h) for h in proto_field(c, "host_statuses", []) or [])
            out.append(
                ClusterStatus(
                    name, parse_cluster_name(name), hosts, bool(proto_field(c, "added_via_api", False))
                )
            )
    except (KeyError, TypeError, AttributeError, ValueError, OverflowError, RecursionError) as exc:
        # another Envoy version's shapes: one line for the pane, never a crash
        raise ClustersFormatError(f"malformed cluster entry: {type(exc).__name__} {str(exc)[:80]}") from exc
    return out


# the columns that name a cluster as `istioctl proxy-config cluster` does, and its health:
# the same cells in the Clusters tab and in `meshtui clusters` (each adds its own counts)
NAME_COLUMNS = ("SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "HEALTHY")


def name_cells(c: ClusterStatus) -> tuple[str, str, str, str, str]:
    return (
        c.istio.service or c.name,
        c.istio.port or "-",
        c.istio.subset or "-",
        c.istio.direction or "-",
        f"{c.healthy}/{len(c.hosts)}",
    )


def cluster_record(c: ClusterStatus) -> dict[str, object]:
    """The headless JSON form of one cluster."""
    return {
        "name": c.name,
        "direction": c.istio.direction,
        "port": c.istio.port,
        "subset": c.istio.subset,
        "service": c.istio.service,
        "endpoints_healthy": c.healthy,
        "endpoints_total": len(c.hosts),
        "rq_total": c.total("rq_total"),
        "rq_error": c.total("rq_error"),
        "cx_active": c.total("cx_active"),
        "endpoints": [
            {
                "address": h.address,
                "health": h.eds_health,
                "outlier_ejected": h.outlier_ejected,
                "failed_active_health_check": h.failed_active_hc,
                "weight": h.weight,
                "locality": h.locality,
                "rq_total": h.get("rq_total"),
                "rq_error": h.get("rq_error"),
                "rq_active": h.get("rq_active"),
                "cx_active": h.get("cx_active"),
            }
            for h in c.hosts
        ],
    }


ERROR_WINDOW_S = 10.0  # errors are counted over this window: one poll's 0 or 1 error is noise


@dataclass(frozen=True, slots=True)
class ClustersSnapshot:
    """One poll of `/clusters`, with request rates since the poll before and error rates
    over the last ERROR_WINDOW_S seconds."""

    clusters: tuple[ClusterStatus, ...]
    rq_rate: Mapping[str, float]  # cluster -> requests per second
    error_rate: Mapping[str, float]  # cluster -> errors per second over the window
    host_rq_rate: Mapping[tuple[str, str], float]  # (cluster, address) -> requests per second
    taken_at: float = 0.0
    index: Mapping[str, ClusterStatus] = field(default_factory=dict)
    error_pct: Mapping[str, float] = field(default_factory=dict)  # errors / requests over the window, %
    window_s: float = 0.0  # how long the window behind error_rate really is (shorter at the start)

    def by_name(self, name: str) -> ClusterStatus | None:
        return self.index.get(name)

    def without_changes(self) -> ClustersSnapshot:
        """The same clusters with no rates: what a stale view shows."""
        return replace(self, rq_rate={}, error_rate={}, host_rq_rate={}, error_pct={})


class ClustersTracker:
    def __init__(self, window_s: float = ERROR_WINDOW_S) -> None:
        self._prev: dict[tuple[str, str], tuple[int, int]] = {}
        self._at: float | None = None
        self.window_s = window_s
        # (poll time, cluster -> (rq_total, rq_error)) for the polls inside the window
        self._history: collections.deque[tuple[float, dict[str, tuple[int, int]]]] = collections.deque()

    def _windowed(
        self, now: float, totals: dict[str, tuple[int, int]]
    ) -> tuple[dict[str, float], dict[str, float], float]:
        """Error rate and error % per cluster between the oldest poll in the window and now."""
        history = self._history
        history.append((now, totals))
        while len(history) > 2 and history[1][0] <= now - self.window_s:
            history.popleft()  # keep one poll at or before the window's start
        if len(history) < 2:
            return {}, {}, 0.0
        since, base = history[0]
        elapsed = max(now - since, 1e-6)
        err: dict[str, float] = {}
        pct: dict[str, float] = {}
        for name, (total, errors) in totals.items():
            before = base.get(name)
            if before is None:
                continue
            d_total, d_err = total - before[0], errors - before[1]
            if d_total < 0 or d_err < 0:
                continue  # counters reset inside the window: no figure rather than a wrong one
            if d_err:
                err[name] = d_err / elapsed
            if d_total:
                pct[name] = 100.0 * d_err / d_total
        return err, pct, elapsed

    def update(self, clusters: list[ClusterStatus], now: float) -> ClustersSnapshot:
        elapsed = None if self._at is None else max(now - self._at, 1e-6)
        current: dict[tuple[str, str], tuple[int, int]] = {}
        rq: dict[str, float] = {}
        host_rq: dict[tuple[str, str], float] = {}
        totals: dict[str, tuple[int, int]] = {}
        for c in clusters:
            c_total = c_err = 0
            for h in c.hosts:
                key = (c.name, h.address)
                total, errors = h.get("rq_total"), h.get("rq_error")
                c_total, c_err = c_total + total, c_err + errors
                current[key] = (total, errors)
                before = self._prev.get(key)
                if elapsed is None or before is None:
                    continue
                # a counter that went down (Envoy restarted, counters reset) is no negative rate
                d_total = max(total - before[0], 0)
                if d_total:
                    host_rq[key] = d_total / elapsed
                    rq[c.name] = rq.get(c.name, 0.0) + d_total / elapsed
            totals[c.name] = (c_total, c_err)
        self._prev, self._at = current, now
        err, pct, window = self._windowed(now, totals)
        return ClustersSnapshot(
            tuple(clusters), rq, err, host_rq, now, {c.name: c for c in clusters}, pct, window
        )
