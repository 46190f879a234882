"""Istio's standard metrics for a demo pod, served on its :15020/stats/prometheus as
istio-agent serves what istio-proxy's stats filter records.

Upstream Envoy has no Istio stats filter, and its counters cannot say, per request, which
peer it came from with which final code: there is no per-code downstream counter, and a
cluster's `upstream_rq_<code>` counts every retry attempt. What Envoy does keep per request
is its access log. Each demo Envoy's connection managers write one JSON line per request
(demo/bootstrap.py ACCESS_LOG_FORMAT), and this module turns those lines into the metrics,
one request at a time, as the stats filter does on the request path:

- `reporter`: `destination` on the inbound connection manager (the server's sidecar),
  `source` on the outbound one (the client's sidecar or the gateway);
- the peer's identity from the mutual-TLS certificate Envoy checked
  (`%DOWNSTREAM_PEER_URI_SAN%` inbound, `%UPSTREAM_PEER_URI_SAN%` outbound): its namespace
  and service account, and from those the workload (derived: a demo workload's service
  account is its name, the gateway's `<name>-service-account`), as Istio's metadata
  exchange would tell it;
- `destination_service` from the upstream cluster (`outbound|80||catalog.istioinaction.svc...`)
  outbound, the pod's own service inbound;
- `response_code`, `response_flags` (`-`, or Envoy's `FI` for an injected fault, `UH` ...)
  and the duration (`%DURATION%`, first byte in to last byte out, in ms) as Envoy logged them;
- the duration histogram has Istio's (and Envoy's default) buckets.

Labels not derivable here take the values the seed's capture shows for them
(`source_cluster="Kubernetes"`, `request_protocol="http"`, `grpc_response_status=""`,
`connection_security_policy`: `mutual_tls` as the destination reports it, `unknown` as the
source does). `tests/external/test_demo_prometheus.py` checks the counts against each
Envoy's own counters and the labels against ../shared/fixtures/seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# istio_request_duration_milliseconds: Istio's buckets, which are Envoy's default ones
BUCKETS: tuple[float, ...] = (0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
BUCKETS += (60000, 300000, 600000, 1800000, 3600000)
SPIFFE = "spiffe://cluster.local/ns/"
BYTES = (("istio_request_bytes", "request_bytes"), ("istio_response_bytes", "response_bytes"))
LABELS = (
    "reporter",
    "source_workload",
    "source_canonical_service",
    "source_canonical_revision",
    "source_workload_namespace",
    "source_principal",
    "source_app",
    "source_version",
    "source_cluster",
    "destination_workload",
    "destination_workload_namespace",
    "destination_principal",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_canonical_service",
    "destination_canonical_revision",
    "destination_service_name",
    "destination_service_namespace",
    "destination_cluster",
    "request_protocol",
    "response_code",
    "grpc_response_status",
    "response_flags",
    "connection_security_policy",
)


@dataclass(frozen=True)
class Peer:
    """A workload as the labels name it."""

    workload: str
    namespace: str
    version: str = ""
    principal: str = ""

    @classmethod
    def from_san(cls, san: str, versions: dict[str, str]) -> Peer | None:
        """`spiffe://cluster.local/ns/NS/sa/SA` -> the workload behind that service account."""
        if not san.startswith(SPIFFE):
            return None
        parts = san[len(SPIFFE) :].split("/")
        if len(parts) != 3 or parts[1] != "sa":
            return None
        workload = parts[2].removesuffix("-service-account")
        return cls(workload, parts[0], versions.get(workload, ""), san)


@dataclass
class _Series:
    requests: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    duration_sum: float = 0.0
    request_bytes: int = 0
    response_bytes: int = 0


@dataclass
class StandardMetrics:
    """One pod's metrics, fed from its Envoy's access log (`tail`), rendered on scrape."""

    me: Peer
    service: str  # the pod's own service FQDN (`catalog.istioinaction.svc.cluster.local`)
    access_log: Path
    versions: dict[str, str] = field(default_factory=dict)  # workload -> its version label
    series: dict[tuple[str, ...], _Series] = field(default_factory=dict)
    _offset: int = 0
    _partial: bytes = b""

    def tail(self) -> None:
        """Count the lines Envoy wrote since the last scrape (it flushes each second)."""
        try:
            with self.access_log.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return
        self._offset += len(data)
        data, self._partial = self._partial + data, b""
        lines = data.split(b"\n")
        self._partial = lines.pop()  # a line Envoy has not finished writing
        for line in lines:
            if line.strip():
                self.count(line)

    def count(self, line: bytes) -> None:
        try:
            entry: dict[str, Any] = json.loads(line)
        except ValueError:
            return
        key = self._labels(entry)
        if key is None:
            return
        s = self.series.setdefault(key, _Series())
        s.requests += 1
        duration = _number(entry.get("duration"))
        s.duration_sum += duration
        for i, bound in enumerate(BUCKETS):
            if duration <= bound:
                s.buckets[i] += 1
        s.request_bytes += int(_number(entry.get("received")))
        s.response_bytes += int(_number(entry.get("sent")))

    def _labels(self, e: dict[str, Any]) -> tuple[str, ...] | None:
        code = str(e.get("code") or "0")
        flags = str(e.get("flags") or "-")
        if e.get("direction") == "inbound":
            source = Peer.from_san(str(e.get("peer") or ""), self.versions) or Peer("unknown", "unknown")
            dest, service, policy, reporter = self.me, self.service, "mutual_tls", "destination"
        elif e.get("direction") == "outbound":
            cluster = str(e.get("cluster") or "")
            service = cluster.rsplit("|", 1)[-1] if cluster.startswith("outbound|") else "unknown"
            dest = Peer.from_san(str(e.get("upstream_peer") or ""), self.versions) or _by_service(
                service, self.versions
            )
            source, policy, reporter = self.me, "unknown", "source"
        else:
            return None
        svc_name, _, rest = service.partition(".")
        svc_ns = rest.partition(".")[0] if rest else "unknown"
        values = {
            "reporter": reporter,
            "source_workload": source.workload,
            "source_canonical_service": source.workload,
            "source_canonical_revision": source.version or "latest",
            "source_workload_namespace": source.namespace,
            "source_principal": source.principal or "unknown",
            "source_app": source.workload,
            "source_version": source.version,
            "source_cluster": "Kubernetes",
            "destination_workload": dest.workload,
            "destination_workload_namespace": dest.namespace,
            "destination_principal": dest.principal or "unknown",
            "destination_app": dest.workload,
            "destination_version": dest.version,
            "destination_service": service,
            "destination_canonical_service": dest.workload,
            "destination_canonical_revision": dest.version or "latest",
            "destination_service_name": svc_name,
            "destination_service_namespace": svc_ns,
            "destination_cluster": "Kubernetes",
            "request_protocol": "http",
            "response_code": code,
            "grpc_response_status": "",
            "response_flags": flags,
            "connection_security_policy": policy,
        }
        return tuple(values[k] for k in LABELS)

    def render(self) -> str:
        """The Prometheus text format, as istio-agent's merged endpoint writes it."""
        self.tail()
        out = ["# TYPE istio_requests_total counter"]
        for key, s in sorted(self.series.items()):
            out.append(f"istio_requests_total{{{_labels_text(key)}}} {s.requests}")
        out.append("# TYPE istio_request_duration_milliseconds histogram")
        for key, s in sorted(self.series.items()):
            labels = _labels_text(key)
            for bound, n in zip(BUCKETS, s.buckets, strict=True):
                out.append(f'istio_request_duration_milliseconds_bucket{{{labels},le="{bound:g}"}} {n}')
            out.append(f'istio_request_duration_milliseconds_bucket{{{labels},le="+Inf"}} {s.requests}')
            out.append(f"istio_request_duration_milliseconds_sum{{{labels}}} {s.duration_sum:g}")
            out.append(f"istio_request_duration_milliseconds_count{{{labels}}} {s.requests}")
        for name, attr in BYTES:
            # one observation a request: Istio's byte histograms, here as their _sum and _count
            out.append(f"# TYPE {name} histogram")
            for key, s in sorted(self.series.items()):
                labels = _labels_text(key)
                out.append(f'{name}_bucket{{{labels},le="+Inf"}} {s.requests}')
                out.append(f"{name}_sum{{{labels}}} {getattr(s, attr)}")
                out.append(f"{name}_count{{{labels}}} {s.requests}")
        return "\n".join(out) + "\n"


async def serve(metrics: StandardMetrics) -> tuple[Any, int]:
    """The pod's :15020 (`/stats/prometheus`), on a loopback port of its own."""
    from aiohttp import web

    from meshtui.demo import apps

    async def scrape(_request: web.Request) -> web.Response:
        return web.Response(text=metrics.render(), content_type="text/plain")

    app = web.Application()
    app.router.add_get("/stats/prometheus", scrape)
    return await apps.serve(app)


def _by_service(service: str, versions: dict[str, str]) -> Peer:
    """No peer certificate (the request never reached one: a fault, no healthy upstream):
    the workload behind the service, as the demo names them."""
    name, _, rest = service.partition(".")
    if not rest:
        return Peer("unknown", "unknown")
    return Peer(name, rest.partition(".")[0], versions.get(name, ""))


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _labels_text(key: tuple[str, ...]) -> str:
    return ",".join(f'{k}="{_escape(v)}"' for k, v in zip(LABELS, key, strict=True))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
