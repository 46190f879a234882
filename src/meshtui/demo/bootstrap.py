"""Envoy bootstraps shaped the way Istio configures its sidecars and gateway.

Cluster names follow Istio (`outbound|80||catalog.istioinaction.svc.cluster.local`,
`inbound|3000||`), stats tags are Istio's own regexes (copied from a real
`istioctl proxy-config bootstrap`), and admin listens on loopback only. Every
listener binds 127.0.0.1 with port 0; the caller reads the real ports back
from `/listeners`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ISTIO_VERSION = "1.17.8"
RDS_VERSION = "2026-11-26T00:00:00Z/1"  # what istiod would stamp: push time / push number
PROXY_IMAGE = f"docker.io/istio/proxyv2:{ISTIO_VERSION}"

_TAG = r"(?:[_.[:digit:]]*|[_\[\]aAbBcCdDeEfF[:digit:]]*)"
ISTIO_STATS_TAGS: list[dict[str, str]] = [
    {"tag_name": "cluster_name", "regex": r"^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.)"},
    {"tag_name": "tcp_prefix", "regex": r"^tcp\.((.*?)\.)\w+?$"},
    {"tag_name": "response_code", "regex": r"(response_code=\.=(.+?);\.;)|_rq(_(\.d{3}))$"},
    {"tag_name": "response_code_class", "regex": r"_rq(_(\dxx))$"},
    {
        "tag_name": "http_conn_manager_listener_prefix",
        "regex": r"^listener(?=\.).*?\.http\.((" + _TAG + r")\.)",
    },
    {"tag_name": "http_conn_manager_prefix", "regex": r"^http\.((" + _TAG + r")\.)"},
    {"tag_name": "listener_address", "regex": r"^listener\.((" + _TAG + r")\.)"},
    {"tag_name": "cache", "regex": r"(cache\.(.+?)\.)"},
    {"tag_name": "component", "regex": r"(component\.(.+?)\.)"},
    {"tag_name": "tag", "regex": r"(tag\.(.+?)\.)"},
]

# Istio trims Envoy's stats to these prefixes; the demo pods carry the
# `proxyStatsMatcher.inclusionPrefixes` a debugging user adds, so the per-cluster
# and per-listener stats are there too.
ISTIO_INCLUSION_PREFIXES = [
    "reporter=",
    "component",
    "cluster_manager",
    "listener_manager",
    "server",
    "cluster.xds-grpc",
    "wasm",
    "cluster.outbound|",
    "cluster.inbound|",
    "cluster.zipkin",
    "http.",
    "listener.",
]


@dataclass
class Route:
    """An outbound or gateway route: requests for `host` go to cluster `cluster`."""

    host: str
    cluster: str
    upstream_port: int  # loopback port the cluster's one endpoint listens on


@dataclass
class ProxySpec:
    pod: str
    namespace: str
    pod_ip: str
    workload: str
    kind: str = "sidecar"  # "sidecar" or "router" (gateway), as in Istio node ids
    inbound_port: int | None = None  # container port of the app (8080, 3000)
    app_port: int | None = None  # loopback port the app really listens on
    routes: list[Route] = field(default_factory=list)
    route_name: str = "80"  # Istio names outbound route configs by port
    zipkin_port: int | None = None
    zipkin_endpoint: str = "/api/v2/spans"
    sampling: float = 100.0  # percent of requests traced (meshConfig defaultConfig.tracing.sampling)
    secrets: list[dict[str, Any]] = field(default_factory=list)  # SDS's `default` and `ROOTCA`
    # the demo flushes each second so its histograms move live; Istio's default is 5 s
    # (pkg/bootstrap/config.go, the sidecar.istio.io/statsFlushInterval annotation)
    stats_flush_interval: str = "1s"
    # where each connection manager logs a line per request (demo/istio_metrics.py reads it):
    # Istio's meshConfig.accessLogFile, as a file in the pod's folder
    access_log: str = ""


def _address(port: int) -> dict[str, Any]:
    return {"socket_address": {"address": "127.0.0.1", "port_value": port}}


def _cluster(name: str, port: int) -> dict[str, Any]:
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "locality": {"region": "kind", "zone": "myk8s-control-plane"},
                    "lb_endpoints": [{"endpoint": {"address": _address(port)}}],
                }
            ],
        },
    }


def _zipkin(spec: ProxySpec) -> dict[str, Any]:
    return {
        "name": "envoy.tracers.zipkin",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.config.trace.v3.ZipkinConfig",
            "collector_cluster": "zipkin",
            "collector_endpoint": spec.zipkin_endpoint,
            "collector_endpoint_version": "HTTP_JSON",
            "trace_id_128bit": True,
            "shared_span_context": False,
        },
    }


def _hcm(stat_prefix: str, route_config: dict[str, Any], spec: ProxySpec) -> dict[str, Any]:
    hcm: dict[str, Any] = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network."
        "http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": stat_prefix,
        **route_config,
        "generate_request_id": True,
        "http_filters": [
            {
                "name": "envoy.filters.http.router",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
                },
            }
        ],
    }
    if spec.kind == "router":
        # as Istio's gateways: the client address decides "internal" (x-envoy-force-trace is
        # honoured only then), and loopback and RFC 1918 ranges are internal
        hcm["use_remote_address"] = True
        hcm["internal_address_config"] = {
            "cidr_ranges": [
                {"address_prefix": a, "prefix_len": n}
                for a, n in (("127.0.0.0", 8), ("10.0.0.0", 8), ("172.16.0.0", 12), ("192.168.0.0", 16))
            ]
        }
    if spec.zipkin_port:
        hcm["tracing"] = {"random_sampling": {"value": spec.sampling}, "provider": _zipkin(spec)}
    if spec.access_log:
        direction = "inbound" if stat_prefix.startswith("inbound") else "outbound"
        hcm["access_log"] = [
            {
                "name": "envoy.access_loggers.file",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                    "path": spec.access_log,
                    "log_format": {"json_format": {"direction": direction, **ACCESS_LOG_FORMAT}},
                },
            }
        ]
    return hcm


# what demo/istio_metrics.py needs of each request to count it as istio-proxy's stats filter
# does: the final code and flags, the duration, the upstream cluster and both peers' identity
ACCESS_LOG_FORMAT = {
    "code": "%RESPONSE_CODE%",
    "flags": "%RESPONSE_FLAGS%",
    "duration": "%DURATION%",
    "cluster": "%UPSTREAM_CLUSTER%",
    "peer": "%DOWNSTREAM_PEER_URI_SAN%",
    "upstream_peer": "%UPSTREAM_PEER_URI_SAN%",
    "received": "%BYTES_RECEIVED%",
    "sent": "%BYTES_SENT%",
}


def _listener(name: str, stat_prefix: str, route_config: dict[str, Any], spec: ProxySpec):
    return {
        "name": name,
        "address": _address(0),
        # as Istio sets it: Envoy's tracer makes outbound spans CLIENT and inbound ones SERVER
        "traffic_direction": "INBOUND" if name == "virtualInbound" else "OUTBOUND",
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": _hcm(stat_prefix, route_config, spec),
                    }
                ]
            }
        ],
    }


def _route_config(name: str, vhosts: list[tuple[str, list[str], str]]) -> dict[str, Any]:
    return {
        "name": name,
        "virtual_hosts": [
            {
                "name": vname,
                "domains": domains,
                "routes": [
                    {
                        "match": {"prefix": "/"},
                        "route": {"cluster": cluster, "timeout": "5s"},
                        "decorator": {"operation": f"{vname}/*"},
                    }
                ],
            }
            for vname, domains, cluster in vhosts
        ],
    }


def node_id(spec: ProxySpec) -> str:
    return f"{spec.kind}~{spec.pod_ip}~{spec.pod}.{spec.namespace}~{spec.namespace}.svc.cluster.local"


def _rds(route_config: dict[str, Any], rds_dir: Path | None) -> dict[str, Any]:
    """The HCM's routes: inline, or (as Istio does) by RDS, here from a file Envoy watches,
    so they show in /config_dump as dynamic route configs with a version."""
    if rds_dir is None:
        return {"route_config": route_config}
    path = rds_dir / f"rds-{route_config['name'].replace('|', '_')}.json"
    resource = {"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", **route_config}
    path.write_text(json.dumps({"version_info": RDS_VERSION, "resources": [resource]}))
    return {
        "rds": {
            "route_config_name": route_config["name"],
            "config_source": {"path_config_source": {"path": str(path)}, "resource_api_version": "V3"},
        }
    }


def build(spec: ProxySpec, rds_dir: Path | None = None) -> dict[str, Any]:
    """The bootstrap for one proxy: inbound (if it fronts an app) plus its outbound routes.

    With `rds_dir`, route configs are served by RDS from files written there."""
    listeners: list[dict[str, Any]] = []
    clusters: list[dict[str, Any]] = []
    if spec.inbound_port is not None and spec.app_port is not None:
        inbound = f"inbound|{spec.inbound_port}||"
        clusters.append(_cluster(inbound, spec.app_port))
        listeners.append(
            _listener(
                "virtualInbound",
                f"inbound_0.0.0.0_{spec.inbound_port}",
                _rds(
                    _route_config(
                        "inbound|http|" + str(spec.inbound_port), [("inbound|http", ["*"], inbound)]
                    ),
                    rds_dir,
                ),
                spec,
            )
        )
    if spec.routes:
        for route in spec.routes:
            clusters.append(_cluster(route.cluster, route.upstream_port))
        name = "0.0.0.0_8080" if spec.kind == "router" else "0.0.0.0_80"
        # the first route also takes any Host, as a sidecar's passthrough would
        vhosts = [
            (f"{r.host}:80", [r.host, f"{r.host}:*", *(["*"] if i == 0 else [])], r.cluster)
            for i, r in enumerate(spec.routes)
        ]
        listeners.append(
            _listener(name, f"outbound_{name}", _rds(_route_config(spec.route_name, vhosts), rds_dir), spec)
        )
    if spec.zipkin_port:
        clusters.append(_cluster("zipkin", spec.zipkin_port))
    return {
        "node": {
            "id": node_id(spec),
            "cluster": f"{spec.workload}.{spec.namespace}",
            "metadata": {
                "NAME": spec.pod,
                "NAMESPACE": spec.namespace,
                "ISTIO_VERSION": ISTIO_VERSION,
                "WORKLOAD_NAME": spec.workload,
                "CLUSTER_ID": "Kubernetes",
                "INSTANCE_IPS": spec.pod_ip,
                "LABELS": {"app": spec.workload},
            },
        },
        "admin": {"address": _address(0), "access_log_path": "/dev/null"},
        "stats_flush_interval": spec.stats_flush_interval,
        # where Istio 1.17 puts the tracer, and where a custom bootstrap overrides it
        **({"tracing": {"http": _zipkin(spec)}} if spec.zipkin_port else {}),
        "stats_config": {
            "stats_tags": ISTIO_STATS_TAGS,
            "use_all_default_tags": False,
            "stats_matcher": {
                "inclusion_list": {"patterns": [{"prefix": p} for p in ISTIO_INCLUSION_PREFIXES]}
            },
        },
        "static_resources": {"listeners": listeners, "clusters": clusters, "secrets": spec.secrets},
    }
