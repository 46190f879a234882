"""What the demo's istiod knows: services, the proxies of running pods, and Istio config.

Mirrors the parts of Istio's PushContext the demo hosts use: a service per workload
(port 80 -> the app's port), an endpoint per running pod, and the VirtualServices,
DestinationRules and EnvoyFilters users apply with kubectl.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshtui.demo.bootstrap import ProxySpec

DOMAIN = "svc.cluster.local"

TYPE_CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
TYPE_ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
TYPE_LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener"
TYPE_ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
# Istio's push order (pilot/pkg/xds/ads.go PushOrder): clusters warm before listeners use them
PUSH_ORDER = (TYPE_CLUSTER, TYPE_ENDPOINT, TYPE_LISTENER, TYPE_ROUTE)
# v3.GetShortType / GetMetricType (pilot/pkg/xds/v3/model.go)
SHORT = {TYPE_CLUSTER: "cds", TYPE_ENDPOINT: "eds", TYPE_LISTENER: "lds", TYPE_ROUTE: "rds"}


@dataclass
class Service:
    name: str
    namespace: str
    port: int  # service port (80)
    target_port: int  # the app's container port

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{self.namespace}.{DOMAIN}"


@dataclass
class Outbound:
    """One virtual host a proxy routes: `host` (a mesh FQDN or the gateway's host) -> `service`."""

    host: str
    service: str  # FQDN


@dataclass
class Proxy:
    """A running pod's Envoy as istiod sees it, plus the loopback ports the demo gave it."""

    spec: ProxySpec
    labels: dict[str, str]
    inbound_listener: int | None = None  # loopback port of virtualInbound (the pod's endpoint)
    outbound_listener: int | None = None  # loopback port of 0.0.0.0_80 / 0.0.0.0_8080
    outbound: list[Outbound] = field(default_factory=list)
    ready: bool = True  # its pod's readiness: a pod whose sidecar is down is no endpoint

    @property
    def id(self) -> str:
        s = self.spec
        return f"{s.kind}~{s.pod_ip}~{s.pod}.{s.namespace}~{s.namespace}.{DOMAIN}"

    @property
    def short_id(self) -> str:
        return f"{self.spec.pod}.{self.spec.namespace}"


@dataclass
class Config:
    """The Istio config objects, keyed (namespace, name), as the API server stores them."""

    virtual_services: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    destination_rules: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    envoy_filters: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def fqdn(host: str, namespace: str) -> str:
    """Istio's host resolution: a short name is in the config's own namespace."""
    if "." not in host:
        return f"{host}.{namespace}.{DOMAIN}"
    if host.count(".") == 1:
        return f"{host}.{DOMAIN}"
    return host


def cluster_name(direction: str, port: int, subset: str, host: str) -> str:
    """model.BuildSubsetKey: `outbound|80|v1|catalog.istioinaction.svc.cluster.local`."""
    return f"{direction}|{port}|{subset}|{host}"


def config_metadata(obj: dict[str, Any], kebab_kind: str) -> dict[str, Any]:
    """The `istio` filter metadata istiod puts on what an Istio object produced (a route from a
    VirtualService, a cluster from a DestinationRule): pilot/pkg/networking/util/util.go
    AddConfigInfoMetadata, `/apis/<group>/<version>/namespaces/<ns>/<kebab-kind>/<name>`;
    istioctl proxy-config reads it back as the VIRTUAL SERVICE / DESTINATION RULE column.
    The version is istiod's schema's, not the one the object was applied as: v1alpha3 in
    Istio 1.17, whose CRDs the demo serves (kinds/istio.py)."""
    meta = obj.get("metadata") or {}
    where = f"namespaces/{meta.get('namespace', '')}/{kebab_kind}/{meta.get('name', '')}"
    path = f"/apis/networking.istio.io/v1alpha3/{where}"
    return {"filter_metadata": {"istio": {"config": path}}}
