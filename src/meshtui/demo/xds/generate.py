"""The xDS resources istiod builds for one proxy: clusters, endpoints, listeners, routes.

Shaped like Istio 1.17's (pilot/pkg/networking/core/v1alpha3/cluster.go, listener.go):
outbound clusters are EDS clusters named `outbound|80|SUBSET|FQDN`, one more per
DestinationRule subset with its traffic policy; inbound clusters are STATIC to the
app; listeners take their routes by RDS, all over the one ADS stream.
EnvoyFilter patches are merged in raw, unchecked, as Istio passes a patch's value
through: a bad one is what Envoy rejects (a NACK).
"""

from __future__ import annotations

from typing import Any

from meshtui.demo import bootstrap
from meshtui.demo.xds import routes as route_mod
from meshtui.demo.xds.model import (
    TYPE_CLUSTER,
    TYPE_ENDPOINT,
    TYPE_LISTENER,
    TYPE_ROUTE,
    Config,
    Proxy,
    Service,
    cluster_name,
    config_metadata,
    fqdn,
)

ADS_SOURCE = {"ads": {}, "initial_fetch_timeout": "0s", "resource_api_version": "V3"}
LOCALITY = {"region": "kind", "zone": "myk8s-control-plane"}
SDS_SOURCE = {
    "api_config_source": {
        "api_type": "GRPC",
        "set_node_on_first_message_only": True,
        "transport_api_version": "V3",
        "grpc_services": [{"envoy_grpc": {"cluster_name": "sds-grpc"}}],
    },
    "initial_fetch_timeout": "0s",
    "resource_api_version": "V3",
}
TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."


def _common_tls(peer_spiffe: str | None = None) -> dict[str, Any]:
    """Istio mutual TLS (ISTIO_MUTUAL): the `default` certificate and `ROOTCA`, both by SDS."""
    validation: dict[str, Any] = {}
    if peer_spiffe:
        validation["match_typed_subject_alt_names"] = [{"san_type": "URI", "matcher": {"exact": peer_spiffe}}]
    return {
        "tls_certificate_sds_secret_configs": [{"name": "default", "sds_config": SDS_SOURCE}],
        "combined_validation_context": {
            "default_validation_context": validation,
            "validation_context_sds_secret_config": {"name": "ROOTCA", "sds_config": SDS_SOURCE},
        },
    }


def _upstream_tls(name: str, svc: Service) -> dict[str, Any]:
    _direction, port, subset, host = name.split("|")
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": TLS + "UpstreamTlsContext",
            "common_tls_context": _common_tls(f"spiffe://cluster.local/ns/{svc.namespace}/sa/{svc.name}"),
            "sni": f"outbound_.{port}_.{subset}_.{host}",
        },
    }


def _address(port: int) -> dict[str, Any]:
    return {"socket_address": {"address": "127.0.0.1", "port_value": port}}


def _traffic_policy(cluster: dict[str, Any], policy: dict[str, Any]) -> None:
    """DestinationRule trafficPolicy -> circuit breakers and outlier detection
    (applyConnectionPool / applyOutlierDetection in istio's cluster_traffic_policy.go)."""
    pool = policy.get("connectionPool") or {}
    thresholds: dict[str, Any] = {}
    tcp, http = pool.get("tcp") or {}, pool.get("http") or {}
    if "maxConnections" in tcp:
        thresholds["max_connections"] = int(tcp["maxConnections"])
    if "http1MaxPendingRequests" in http:
        thresholds["max_pending_requests"] = int(http["http1MaxPendingRequests"])
    if "http2MaxRequests" in http:
        thresholds["max_requests"] = int(http["http2MaxRequests"])
    if "maxRetries" in http:
        thresholds["max_retries"] = int(http["maxRetries"])
    if thresholds:
        cluster["circuit_breakers"] = {"thresholds": [thresholds]}
    outlier = policy.get("outlierDetection")
    if outlier:
        od: dict[str, Any] = {}
        errors = outlier.get("consecutive5xxErrors", outlier.get("consecutiveErrors"))
        if errors is not None:
            od["consecutive_5xx"] = int(errors)
            od["enforcing_consecutive_5xx"] = 100
        for ours, theirs in (
            ("interval", "interval"),
            ("base_ejection_time", "baseEjectionTime"),
        ):
            if theirs in outlier:
                od[ours] = outlier[theirs]
        if "maxEjectionPercent" in outlier:
            od["max_ejection_percent"] = int(outlier["maxEjectionPercent"])
        cluster["outlier_detection"] = od


def _eds_cluster(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "EDS",
        "eds_cluster_config": {"eds_config": ADS_SOURCE, "service_name": name},
        "connect_timeout": "1s",
        "lb_policy": "LEAST_REQUEST",
    }


def _destination_rule(config: Config, host: str) -> dict[str, Any] | None:
    for (ns, _name), dr in sorted(config.destination_rules.items()):
        if fqdn(dr.get("spec", {}).get("host", ""), ns) == host:
            return dr
    return None


def clusters(config: Config, proxy: Proxy, services: dict[str, Service]) -> list[dict[str, Any]]:
    spec = proxy.spec
    out: list[dict[str, Any]] = []
    if spec.inbound_port is not None and spec.app_port is not None:
        name = cluster_name("inbound", spec.inbound_port, "", "")
        out.append(
            {
                "name": name,
                "type": "STATIC",
                "connect_timeout": "1s",
                "load_assignment": {
                    "cluster_name": name,
                    "endpoints": [
                        {
                            "locality": LOCALITY,
                            "lb_endpoints": [{"endpoint": {"address": _address(spec.app_port)}}],
                        }
                    ],
                },
            }
        )
    # every service of the mesh, whichever this proxy calls: without a Sidecar resource
    # istiod sends each proxy the whole mesh's outbound clusters (so every proxy's EDS is
    # SYNCED in the seed's `istioctl proxy-status`, catalog's too)
    for svc in sorted(services.values(), key=lambda s: s.fqdn):
        base = _eds_cluster(cluster_name("outbound", svc.port, "", svc.fqdn))
        base["transport_socket"] = _upstream_tls(base["name"], svc)
        dr = _destination_rule(config, svc.fqdn)
        policy = (dr or {}).get("spec", {}).get("trafficPolicy") or {}
        _traffic_policy(base, policy)
        if dr is not None:  # cluster_builder.go: AddConfigInfoMetadata(destRule.Meta)
            base["metadata"] = config_metadata(dr, "destination-rule")
        out.append(base)
        for subset in (dr or {}).get("spec", {}).get("subsets") or []:
            c = _eds_cluster(cluster_name("outbound", svc.port, subset["name"], svc.fqdn))
            c["transport_socket"] = _upstream_tls(c["name"], svc)
            _traffic_policy(c, {**policy, **(subset.get("trafficPolicy") or {})})
            c["metadata"] = config_metadata(dr or {}, "destination-rule")
            out.append(c)
    return _patch(config, proxy, "CLUSTER", out)


def endpoints(
    config: Config, proxy: Proxy, services: dict[str, Service], pods: list[Proxy], names: list[str]
) -> list[dict[str, Any]]:
    """ClusterLoadAssignments for the EDS clusters Envoy asked for (by name)."""
    out = []
    for name in names:
        direction, _port, subset, host = ([*name.split("|"), "", "", "", ""])[:4]
        svc = next((s for s in services.values() if s.fqdn == host), None)
        if direction != "outbound" or svc is None:
            continue
        want: dict[str, str] = {}
        if subset:
            dr = _destination_rule(config, host) or {}
            for s in dr.get("spec", {}).get("subsets") or []:
                if s.get("name") == subset:
                    want = s.get("labels") or {}
        lb = [
            {
                "endpoint": {"address": _address(p.inbound_listener)},
                "health_status": "HEALTHY",
                "metadata": {
                    "filter_metadata": {"istio": {"workload": f"{p.spec.workload};{p.spec.namespace}"}}
                },
                "load_balancing_weight": 1,
            }
            for p in pods
            if p.inbound_listener
            and p.ready  # Istio 1.17 sends only ready endpoints (SEND_UNHEALTHY_ENDPOINTS off)
            and p.labels.get("app") == svc.name
            and p.spec.namespace == svc.namespace
            and all(p.labels.get(k) == v for k, v in want.items())
        ]
        out.append(
            {"cluster_name": name, "endpoints": [{"locality": LOCALITY, "lb_endpoints": lb}] if lb else []}
        )
    return out


def _listener(
    name: str, port: int, stat_prefix: str, route: str, proxy: Proxy, fault: bool
) -> dict[str, Any]:
    hcm = bootstrap._hcm(
        stat_prefix, {"rds": {"config_source": ADS_SOURCE, "route_config_name": route}}, proxy.spec
    )
    if fault:
        # Istio's outbound HCM carries the fault filter ahead of the router; routes configure it
        hcm["http_filters"].insert(
            0, {"name": route_mod.FAULT_FILTER, "typed_config": {"@type": route_mod.HTTP_FAULT}}
        )
    chain: dict[str, Any] = {
        "filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]
    }
    if name == "virtualInbound":  # peers come in over mutual TLS
        chain["transport_socket"] = {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": TLS + "DownstreamTlsContext",
                "common_tls_context": _common_tls(),
                "require_client_certificate": True,
            },
        }
    return {"name": name, "address": _address(port), "filter_chains": [chain]}


def listeners(config: Config, proxy: Proxy) -> list[dict[str, Any]]:
    spec = proxy.spec
    out = []
    if spec.inbound_port is not None and proxy.inbound_listener:
        out.append(
            _listener(
                "virtualInbound",
                proxy.inbound_listener,
                f"inbound_0.0.0.0_{spec.inbound_port}",
                f"inbound|http|{spec.inbound_port}",
                proxy,
                fault=False,
            )
        )
    if proxy.outbound and proxy.outbound_listener:
        name = "0.0.0.0_8080" if spec.kind == "router" else "0.0.0.0_80"
        out.append(
            _listener(name, proxy.outbound_listener, f"outbound_{name}", spec.route_name, proxy, fault=True)
        )
    return _patch(config, proxy, "LISTENER", out)


def _selected(ef: dict[str, Any], ns: str, proxy: Proxy) -> bool:
    # an EnvoyFilter in the root namespace applies mesh-wide; else to its namespace, by selector
    if ns != "istio-system" and ns != proxy.spec.namespace:
        return False
    labels = (ef.get("spec", {}).get("workloadSelector") or {}).get("labels") or {}
    return all(proxy.labels.get(k) == v for k, v in labels.items())


def _merge(into: dict[str, Any], value: dict[str, Any]) -> None:
    for k, v in value.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


def _patch(
    config: Config, proxy: Proxy, apply_to: str, resources: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """EnvoyFilter configPatches (MERGE / ADD) for CLUSTER and LISTENER, value passed through raw."""
    for (ns, _name), ef in sorted(config.envoy_filters.items()):
        if not _selected(ef, ns, proxy):
            continue
        for cp in ef.get("spec", {}).get("configPatches") or []:
            if cp.get("applyTo") != apply_to:
                continue
            patch = cp.get("patch") or {}
            want = ((cp.get("match") or {}).get("cluster") or {}).get("name") or (
                (cp.get("match") or {}).get("listener") or {}
            ).get("name")
            if patch.get("operation") == "ADD":
                resources.append(dict(patch.get("value") or {}))
            elif patch.get("operation") == "MERGE":
                for r in resources:
                    if not want or r.get("name") == want:
                        _merge(r, patch.get("value") or {})
    return resources


def generate(
    type_url: str,
    config: Config,
    proxy: Proxy,
    services: dict[str, Service],
    pods: list[Proxy],
    names: list[str],
) -> list[dict[str, Any]]:
    if type_url == TYPE_CLUSTER:
        return clusters(config, proxy, services)
    if type_url == TYPE_LISTENER:
        return listeners(config, proxy)
    if type_url == TYPE_ROUTE:
        found = route_mod.route_configs(config, proxy)
        return [r for r in found if not names or r["name"] in names]
    if type_url == TYPE_ENDPOINT:
        return endpoints(config, proxy, services, pods, names)
    return []
