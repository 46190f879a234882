"""A sidecar's or gateway's bootstrap the way Istio 1.17 writes it: everything by ADS.

Istio's bootstrap (istio/istio tools/packaging/common/envoy_bootstrap.json) carries as
static clusters only `xds-grpc` (istio-agent's xDS proxy; here the demo istiod's gRPC
port on loopback, HTTP/2), `sds-grpc` (istio-agent's SDS; here the same port) and the
tracer's cluster; listeners and clusters come over
one ADS stream (`ads_config`, state of the world), and the generated clusters and
listeners ask for endpoints and routes over the same stream. Node, admin, stats and the
tracer are the demo's common bootstrap (meshtui.demo.bootstrap.build).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from meshtui.demo.bootstrap import ProxySpec, build

ADS = {"ads": {}, "initial_fetch_timeout": "0s", "resource_api_version": "V3"}


def xds_grpc_cluster(port: int, name: str = "xds-grpc") -> dict[str, Any]:
    thresholds = {"max_connections": 100000, "max_pending_requests": 100000, "max_requests": 100000}
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}
                            }
                        }
                    ]
                }
            ],
        },
        "circuit_breakers": {
            "thresholds": [{"priority": "DEFAULT", **thresholds}, {"priority": "HIGH", **thresholds}]
        },
        "upstream_connection_options": {"tcp_keepalive": {"keepalive_time": 300}},
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "common_http_protocol_options": {"max_requests_per_connection": 1},
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
    }


def ads_bootstrap(spec: ProxySpec, xds_port: int, labels: dict[str, str]) -> dict[str, Any]:
    boot = build(replace(spec, routes=[], inbound_port=None, app_port=None))
    static = boot["static_resources"]
    static.pop("listeners", None)
    # the workload certificate comes by SDS (`sds-grpc`), as istio-agent serves it
    static["clusters"] = [
        xds_grpc_cluster(xds_port),
        xds_grpc_cluster(xds_port, "sds-grpc"),
        *static.get("clusters", []),
    ]
    static.pop("secrets", None)
    boot["node"]["metadata"]["LABELS"] = dict(labels)
    boot["dynamic_resources"] = {
        "lds_config": ADS,
        "cds_config": ADS,
        "ads_config": {
            "api_type": "GRPC",
            "set_node_on_first_message_only": True,
            "transport_api_version": "V3",
            "grpc_services": [{"envoy_grpc": {"cluster_name": "xds-grpc"}}],
        },
    }
    return boot
