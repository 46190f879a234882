"""RouteConfigurations, with VirtualServices translated the way Istio does.

Follows istio/istio pilot/pkg/networking/core/v1alpha3/route/route.go (1.17):
matches (`translateRouteMatch`), weighted destinations to subsets
(`weighted_clusters`), fault injection as the route's `envoy.filters.http.fault`
per-filter config with a per-million percentage (`translateFault`,
`translatePercentToFractionalPercent`), timeout and retries (`retry.ConvertPolicy`).
Only what the demo's hosts use is translated.
"""

from __future__ import annotations

from typing import Any

from meshtui.demo.xds.model import Config, Outbound, Proxy, cluster_name, config_metadata, fqdn

FAULT_FILTER = "envoy.filters.http.fault"
HTTP_FAULT = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"
DEFAULT_TIMEOUT = "5s"  # the demo's routes have always carried it; a VirtualService overrides it


def _percent(value: Any) -> dict[str, Any]:
    # Istio: numerator = percent * 10000 over MILLION
    return {"numerator": round(float(value) * 10000), "denominator": "MILLION"}


def _string_match(m: dict[str, Any]) -> dict[str, Any]:
    if "exact" in m:
        return {"exact": m["exact"]}
    if "prefix" in m:
        return {"prefix": m["prefix"]}
    if "regex" in m:
        return {"safe_regex": {"regex": m["regex"]}}
    return {"prefix": ""}


def _match(m: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"prefix": "/"}
    uri = m.get("uri")
    if uri:
        out = {}
        if "exact" in uri:
            out["path"] = uri["exact"]
        elif "prefix" in uri:
            out["prefix"] = uri["prefix"]
        elif "regex" in uri:
            out["safe_regex"] = {"regex": uri["regex"]}
    headers = [
        {"name": name, "string_match": _string_match(spec)} for name, spec in (m.get("headers") or {}).items()
    ]
    if headers:
        out["headers"] = headers
    return out


def _fault(fault: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": HTTP_FAULT}
    abort = fault.get("abort")
    if abort:
        out["abort"] = {
            "http_status": int(abort.get("httpStatus", 503)),
            "percentage": _percent((abort.get("percentage") or {}).get("value", 100)),
        }
    delay = fault.get("delay")
    if delay:
        out["delay"] = {
            "fixed_delay": delay.get("fixedDelay", "1s"),
            "percentage": _percent((delay.get("percentage") or {}).get("value", 100)),
        }
    return out


def _retries(retries: dict[str, Any]) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "num_retries": int(retries.get("attempts", 2)),
        "retry_on": retries.get("retryOn", "connect-failure,refused-stream,unavailable,cancelled,503"),
    }
    if "perTryTimeout" in retries:
        policy["per_try_timeout"] = retries["perTryTimeout"]
    return policy


def _http_route(
    rule: dict[str, Any], vs: dict[str, Any], namespace: str, port: int, vname: str, match: dict[str, Any]
) -> dict[str, Any]:
    dests = rule.get("route") or []
    names = [
        (
            cluster_name(
                "outbound",
                int((d["destination"].get("port") or {}).get("number", port)),
                d["destination"].get("subset", ""),
                fqdn(d["destination"]["host"], namespace),
            ),
            int(d.get("weight", 100 if len(dests) == 1 else 0)),
        )
        for d in dests
    ]
    action: dict[str, Any] = {"timeout": rule.get("timeout", DEFAULT_TIMEOUT)}
    if len(names) == 1:
        action["cluster"] = names[0][0]
    else:
        action["weighted_clusters"] = {"clusters": [{"name": n, "weight": w} for n, w in names if w > 0]}
    if rule.get("retries"):
        action["retry_policy"] = _retries(rule["retries"])
    route: dict[str, Any] = {
        "match": match,
        "route": action,
        "decorator": {"operation": f"{vname}/*"},
        "metadata": config_metadata(vs, "virtual-service"),  # route.go: BuildConfigInfoMetadata
    }
    if rule.get("name"):
        route["name"] = rule["name"]
    if rule.get("fault"):
        route["typed_per_filter_config"] = {FAULT_FILTER: _fault(rule["fault"])}
    return route


def _applies(vs: dict[str, Any], proxy: Proxy) -> bool:
    gateways = vs.get("spec", {}).get("gateways") or ["mesh"]
    if proxy.spec.kind == "router":
        return any(g != "mesh" for g in gateways)
    return "mesh" in gateways


def virtual_service_for(config: Config, proxy: Proxy, host: str) -> tuple[str, dict[str, Any]] | None:
    """The VirtualService that owns `host` for this proxy (oldest name first, as Istio merges)."""
    for (ns, _name), vs in sorted(config.virtual_services.items()):
        hosts = {fqdn(h, ns) if "." not in h else h for h in vs.get("spec", {}).get("hosts") or []}
        if (fqdn(host, ns) in hosts or host in hosts) and _applies(vs, proxy):
            return ns, vs
    return None


def _vhost_routes(config: Config, proxy: Proxy, out: Outbound, port: int, vname: str) -> list[dict[str, Any]]:
    found = virtual_service_for(config, proxy, out.host)
    default = {
        "match": {"prefix": "/"},
        "route": {"cluster": cluster_name("outbound", port, "", out.service), "timeout": DEFAULT_TIMEOUT},
        "decorator": {"operation": f"{vname}/*"},
    }
    if found is None:
        return [default]
    ns, vs = found
    routes = []
    for rule in vs["spec"].get("http") or []:
        for m in rule.get("match") or [{}]:
            routes.append(_http_route(rule, vs, ns, port, vname, _match(m)))
    return routes or [default]


def route_configs(config: Config, proxy: Proxy) -> list[dict[str, Any]]:
    spec = proxy.spec
    configs: list[dict[str, Any]] = []
    if spec.inbound_port is not None:
        inbound = cluster_name("inbound", spec.inbound_port, "", "")
        configs.append(
            {
                "name": f"inbound|http|{spec.inbound_port}",
                "virtual_hosts": [
                    {
                        "name": "inbound|http",
                        "domains": ["*"],
                        "routes": [
                            {
                                "match": {"prefix": "/"},
                                "route": {"cluster": inbound, "timeout": DEFAULT_TIMEOUT},
                                "decorator": {"operation": "inbound|http/*"},
                            }
                        ],
                    }
                ],
            }
        )
    if proxy.outbound:
        vhosts = []
        for i, out in enumerate(proxy.outbound):
            vname = f"{out.host}:80"
            # the first route also takes any Host, as a sidecar's passthrough would
            domains = [out.host, f"{out.host}:*", *(["*"] if i == 0 else [])]
            vhosts.append(
                {"name": vname, "domains": domains, "routes": _vhost_routes(config, proxy, out, 80, vname)}
            )
        configs.append({"name": spec.route_name, "virtual_hosts": vhosts})
    return configs
