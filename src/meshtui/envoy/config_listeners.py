"""Listeners and routes of a `/config_dump`, in `istioctl proxy-config listener|route -o wide`'s
notation: one listener row per filter chain with its MATCH and DESTINATION, one route row per
route with its MATCH and the VirtualService that produced it.

Each rule follows istioctl's Go source (istio/istio at 86c9f01f, istioctl/pkg/writer/envoy/
configdump/listener.go and route.go); the function names say which Go function they mirror.
Rows keep what istioctl drops (warming and draining listeners, the route's destination) in
extra fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

Row = dict[str, Any]

HTTP_CONNECTION_MANAGER = "envoy.filters.network.http_connection_manager"  # wellknown.HTTPConnectionManager
TCP_PROXY = "envoy.filters.network.tcp_proxy"  # wellknown.TCPProxy
BLACK_HOLE = "BlackHoleCluster"  # util.BlackHoleCluster

# listener.go protDescrs: the ALPN lists Istio writes, by the name istioctl gives them
_ALPN_NAMES = {
    ("http/1.0", "http/1.1", "h2c", "istio-http/1.0", "istio-http/1.1", "istio-h2"): "App: HTTP TLS",
    ("istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"): "App: Istio HTTP Plain",
    ("istio-peer-exchange", "istio"): "App: TCP TLS",
    ("http/1.0", "http/1.1", "h2c"): "App: HTTP",
}


# -- listeners -------------------------------------------------------------------------


def listener_entries(raw: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str, str]]:
    """(state, listener, version, last_updated) for every listener of the section: istioctl
    reads the active and static ones; warming, draining and failed ones are meshtui's extra."""
    for entry in raw.get("static_listeners", []):
        yield "static", entry["listener"], "", entry.get("last_updated", "")
    for entry in raw.get("dynamic_listeners", []):
        for state in ("active_state", "warming_state", "draining_state"):
            st = entry.get(state)
            if st:
                yield (
                    state.removesuffix("_state"),
                    st["listener"],
                    st.get("version_info", ""),
                    st.get("last_updated", ""),
                )
        if entry.get("error_state"):
            failed = {"name": entry.get("name", "")}
            yield "error", failed, "", entry["error_state"].get("last_update_attempt", "")


def filter_chains(listener: dict[str, Any]) -> list[dict[str, Any]]:
    """getFilterChains: the chains, then the default chain."""
    chains = list(listener.get("filter_chains", []))
    if listener.get("default_filter_chain"):
        chains.append(listener["default_filter_chain"])
    return chains


def _address(listener: dict[str, Any]) -> str:
    """retrieveListenerAddress: a socket's IP, a pipe's path, else nothing (internal listeners)."""
    addr = listener.get("address") or {}
    if "socket_address" in addr:
        return str(addr["socket_address"].get("address", ""))
    if "pipe" in addr:
        return str(addr["pipe"].get("path", ""))
    return ""


def _port(listener: dict[str, Any]) -> int:
    return int(((listener.get("address") or {}).get("socket_address") or {}).get("port_value", 0))


def _addresses(listener: dict[str, Any]) -> str:
    extra = [
        str(((a.get("address") or {}).get("socket_address") or {}).get("address", ""))
        for a in listener.get("additional_addresses", [])
    ]
    return ",".join([_address(listener), *extra])


def _is(f: dict[str, Any], name: str) -> bool:
    # istioctl compares the filter's name; the typed config's type says the same on dumps whose
    # names are older aliases (envoy.http_connection_manager)
    kind = str((f.get("typed_config") or {}).get("@type", "")).rsplit(".", 2)
    return (
        f.get("name") == name
        or (name == HTTP_CONNECTION_MANAGER and kind[-1] == "HttpConnectionManager")
        or (name == TCP_PROXY and kind[-1] == "TcpProxy")
    )


def _black_hole(f: dict[str, Any]) -> bool:
    # istioctl looks for the name anywhere in the filter's serialized config
    return BLACK_HOLE in json.dumps(f.get("typed_config") or {})


def listener_type(listener: dict[str, Any]) -> str:
    """retrieveListenerType: HTTP, TCP, HTTP+TCP or UNKNOWN."""
    n_http = n_tcp = 0
    for chain in filter_chains(listener):
        for f in chain.get("filters", []):
            if _is(f, HTTP_CONNECTION_MANAGER):
                n_http += 1
            elif _is(f, TCP_PROXY) and not _black_hole(f):
                n_tcp += 1
    if n_http:
        return "HTTP" if not n_tcp else "HTTP+TCP"
    return "TCP" if n_tcp else "UNKNOWN"


def chain_match(match: dict[str, Any] | None) -> str:
    """getMatches: SNI, transport, ALPN and destination address/port of a filter chain."""
    m = match or {}
    descrs = []
    if m.get("server_names"):
        descrs.append("SNI: " + ",".join(m["server_names"]))
    if m.get("transport_protocol"):
        descrs.append("Trans: " + str(m["transport_protocol"]))
    alpn = tuple(m.get("application_protocols") or ())
    if alpn:
        descrs.append(_ALPN_NAMES.get(alpn) or "App: " + ",".join(alpn))
    port = f":{m['destination_port']}" if m.get("destination_port") is not None else ""
    if m.get("prefix_ranges"):
        ranges = ",".join(
            f"{p.get('address_prefix', '')}/{p.get('prefix_len', 0)}" for p in m["prefix_ranges"]
        )
        descrs.append(f"Addr: {ranges}{port}")
    elif port:
        descrs.append(f"Addr: *{port}")
    return "; ".join(descrs) or "ALL"


def chain_destination(filters: list[dict[str, Any]]) -> str:
    """getFilterType: where a chain sends traffic (`Route: 80`, `Cluster: X`, an inline route)."""
    for f in filters:
        cfg = f.get("typed_config") or {}
        if _is(f, HTTP_CONNECTION_MANAGER):
            if cfg.get("route_config") is not None:
                return describe_route_config(cfg["route_config"])
            if (cfg.get("rds") or {}).get("route_config_name"):
                return f"Route: {cfg['rds']['route_config_name']}"
            return "HTTP"
        if _is(f, TCP_PROXY) and not _black_hole(f):
            cluster = str(cfg.get("cluster", ""))
            return cluster if "Cluster" in cluster else f"Cluster: {cluster}"
    return "Non-HTTP/Non-TCP"


def describe_route_config(rc: dict[str, Any]) -> str:
    """describeRouteConfig: one cluster for a match-all route, else `Inline Route: ...`."""
    if cluster := _match_all_cluster(rc):
        return cluster
    vhosts = []
    for vh in rc.get("virtual_hosts", []):
        domains = vh.get("domains", [])
        routes = ", ".join(describe_match(r.get("match") or {}) for r in vh.get("routes", []))
        vhosts.append(routes if domains == ["*"] else f"{'/'.join(domains)} {routes}")
    return "Inline Route: " + "; ".join(vhosts)


def _match_all_cluster(rc: dict[str, Any]) -> str:
    """getMatchAllCluster"""
    vhosts = rc.get("virtual_hosts", [])
    if len(vhosts) != 1 or vhosts[0].get("domains") != ["*"] or len(vhosts[0].get("routes", [])) != 1:
        return ""
    r = vhosts[0]["routes"][0]
    if (r.get("match") or {}).get("prefix") != "/" or "cluster" not in (r.get("route") or {}):
        return ""
    cluster = str(r["route"]["cluster"])
    return cluster if "Cluster" in cluster else f"Cluster: {cluster}"


def listener_rows(raw: dict[str, Any]) -> Iterator[Row]:
    """PrintListenerSummary -o wide: sorted by port, address and type; a listener's chains by
    destination, descending."""
    entries = list(listener_entries(raw))
    entries.sort(key=lambda e: (_port(e[1]), _address(e[1]), listener_type(e[1])))
    for state, listener, version, updated in entries:
        chains = [
            (chain_match(c.get("filter_chain_match")), chain_destination(c.get("filters", [])))
            for c in filter_chains(listener)
        ]
        chains.sort(key=lambda c: c[1], reverse=True)
        for match, destination in chains or [("", "")]:
            yield {
                "name": listener.get("name", ""),
                "addresses": _addresses(listener),
                "port": _port(listener),
                "match": match,
                "destination": destination,
                "type": listener_type(listener),
                "state": state,
                "version": version,
                "last_updated": updated,
                "_raw": listener,
            }


# -- routes ----------------------------------------------------------------------------


def describe_match(match: dict[str, Any]) -> str:
    """describeMatch: `/get*` for a prefix, `PathPrefix:/get`, the exact path, `regex ...`;
    headers are not shown (as in istioctl)."""
    conds = []
    if match.get("prefix"):
        conds.append(f"{match['prefix']}*")
    if match.get("path_separated_prefix"):
        conds.append(f"PathPrefix:{match['path_separated_prefix']}")
    if match.get("path"):
        conds.append(str(match["path"]))
    if match.get("safe_regex"):
        conds.append(f"regex {match['safe_regex'].get('regex', '')}")
    return " ".join(conds)


def describe_domains(domains: list[str]) -> str:
    """describeRouteDomains: the domains without a port, short forms only, two and a count."""
    if len(domains) <= 1:
        return domains[0] if domains else ""
    bare = [d for d in domains if ":" not in d or (d.count(":") > 2 and d.endswith("]"))]
    present = set(bare)
    drop = {
        d
        for d in bare
        for short in (d.removesuffix(".svc.cluster.local"), d.removesuffix(".svc"))
        if short != d and short in present
    }
    bare = [d for d in bare if d not in drop]
    if len(bare) > 2:
        return f"{', '.join(bare[:2])} + {len(bare) - 2} more..."
    return ", ".join(bare)


def istio_config(metadata: dict[str, Any] | None) -> str:
    """describeManagement + renderConfig: `name.namespace` of the Istio object that produced a
    route or cluster (its `istio` filter metadata), `<unknown>` for other kinds, else ''."""
    path = (((metadata or {}).get("filter_metadata") or {}).get("istio") or {}).get("config")
    if path is None:
        return ""
    path = str(path)
    if not path.startswith("/apis/networking.istio.io/"):
        return "<unknown>"
    pieces = path.split("/")
    return f"{pieces[7]}.{pieces[5]}" if len(pieces) == 8 else ""


def istio_config_path(metadata: dict[str, Any] | None) -> str:
    """The API path istiod wrote (`/apis/networking.istio.io/v1/namespaces/NS/virtual-service/N`)."""
    return str((((metadata or {}).get("filter_metadata") or {}).get("istio") or {}).get("config", ""))


def _route_target(route: dict[str, Any]) -> str:
    action = route.get("route")
    if action:
        if "cluster" in action:
            return str(action["cluster"])
        weighted = (action.get("weighted_clusters") or {}).get("clusters", [])
        if weighted:
            return ", ".join(f"{c.get('name')} ({c.get('weight')})" for c in weighted)
        return str(action.get("cluster_header", "?"))
    if "redirect" in route:
        return "redirect"
    if "direct_response" in route:
        return f"direct response {route['direct_response'].get('status', '')}"
    return "?"


def _numeric_name(entry: tuple[str, dict[str, Any]]) -> tuple[int, int]:
    # retrieveSortedRouteSlice orders numeric names (ports) and leaves the others in place
    name = str(entry[1]["route_config"].get("name", ""))
    return (0, int(name)) if name.isdigit() else (1, 0)


def route_rows(raw: dict[str, Any]) -> Iterator[Row]:
    """PrintRouteSummary -o wide: a row per route; a virtual host without routes is `/*` to
    `404`. istioctl leaves out routes to the PassthroughCluster (isPassthrough); meshtui keeps
    them: they are what an unmatched host gets."""
    configs = [("dynamic", e) for e in raw.get("dynamic_route_configs", [])]
    configs += [("static", e) for e in raw.get("static_route_configs", [])]
    configs.sort(key=_numeric_name)
    for kind, entry in configs:
        rc = entry["route_config"]
        for vh in rc.get("virtual_hosts", []):
            common = {
                "name": rc.get("name", ""),
                "vhost": vh.get("name", ""),
                "domains": describe_domains(vh.get("domains", [])),
            }
            meta = {
                "kind": kind,
                "version": entry.get("version_info", ""),
                "last_updated": entry.get("last_updated", ""),
            }
            for route in vh.get("routes", []):
                target = _route_target(route)
                yield {
                    **common,
                    "match": describe_match(route.get("match") or {}),
                    "virtual_service": istio_config(route.get("metadata")),
                    "destination": target,
                    **meta,
                    "_config_path": istio_config_path(route.get("metadata")),
                    "_raw": route,
                }
            if not vh.get("routes"):
                yield {
                    **common,
                    "match": "/*",
                    "virtual_service": "404",
                    "destination": "",
                    **meta,
                    "_raw": vh,
                }
