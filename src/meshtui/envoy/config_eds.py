"""Endpoints (EDS) and extension configs (ECDS) of a `/config_dump`, as `istioctl proxy-config
endpoint` and `proxy-config ecds` list them.

Rules from istioctl (istio/istio at 86c9f01f, istioctl/pkg/writer/envoy/configdump/endpoint.go
and ecds.go): an endpoint is named by all its addresses (`ip:port`, a pipe's path, or
`envoy://listener/id` for an internal address), its status is the proto enum's name (UNKNOWN
when Envoy wrote none), its locality `region/zone/subzone`; clusters are ordered by service,
subset, port and direction, and a cluster with no endpoint left after the filters is not shown.
The endpoints need `/config_dump?include_eds` (without it the dump has no EDS section).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]
TYPE_URL_PREFIX = "type.googleapis.com/"


@dataclass(frozen=True)
class EndpointFilter:
    """istioctl's --address, --port, --cluster and --status (EndpointFilter.Verify)."""

    address: str = ""
    port: int = 0
    cluster: str = ""
    status: str = ""

    def verify(self, addresses: list[str], port: int, cluster: str, status: str) -> bool:
        if self.address and not any(a.lower() == self.address.lower() for a in addresses):
            return False
        if self.port and port != self.port:
            return False
        if self.cluster and cluster.lower() != self.cluster.lower():
            return False
        return not self.status or status.lower() == self.status.lower()


def _address(addr: dict[str, Any]) -> str:
    """retrieveEndpointAddresses, for one address."""
    if "socket_address" in addr:
        sock = addr["socket_address"]
        return f"{sock.get('address', '')}:{int(sock.get('port_value', 0))}"
    if "pipe" in addr:
        return str(addr["pipe"].get("path", ""))
    internal = addr.get("envoy_internal_address")
    if internal and "server_listener_name" in internal:
        return f"envoy://{internal['server_listener_name']}/{internal.get('endpoint_id', '')}"
    return "unknown"


def locality(loc: dict[str, Any] | None) -> str:
    """util.LocalityToString: region, then /zone, then /subzone, stopping at the first empty."""
    if not loc:
        return ""
    out = str(loc.get("region", ""))
    for part in ("zone", "sub_zone"):
        if not loc.get(part):
            return out
        out += "/" + str(loc[part])
    return out


def subset_key(name: str) -> tuple[str, str, str, int] | None:
    """model.ParseSubsetKey on a name of more than three `|` parts (direction, subset, FQDN,
    port), as istioctl reads cluster names; None for any other name."""
    parts = name.split("|", 3)
    if len(name.split("|")) <= 3:
        return None
    return parts[0], parts[2], parts[3], int(parts[1]) if parts[1].isdigit() else 0


def cluster_order(name: str) -> tuple[str, str, int, str]:
    """safelyParseSubsetKey's order: service, subset, port, direction (other names by name)."""
    key = subset_key(name)
    if key is None:
        return (name, "", 0, "")
    direction, subset, fqdn, port = key
    return (fqdn, subset, port, direction)


def endpoint_rows(raw: dict[str, Any], only: EndpointFilter | None = None) -> Iterator[Row]:
    only = only or EndpointFilter()
    assignments = [(e.get("endpoint_config") or {}, e) for e in raw.get("dynamic_endpoint_configs", [])]
    assignments += [(e.get("endpoint_config") or {}, e) for e in raw.get("static_endpoint_configs", [])]
    assignments.sort(key=lambda a: cluster_order(str(a[0].get("cluster_name", ""))))
    for cla, entry in assignments:
        cluster = str(cla.get("cluster_name", ""))
        for group in cla.get("endpoints", []):
            where = locality(group.get("locality"))
            for lb in group.get("lb_endpoints", []):
                endpoint = lb.get("endpoint") or {}
                addresses = [_address(endpoint.get("address") or {})]
                addresses += [
                    _address(a.get("address") or {}) for a in endpoint.get("additional_addresses", [])
                ]
                sock = (endpoint.get("address") or {}).get("socket_address") or {}
                status = str(lb.get("health_status", "UNKNOWN"))
                if not only.verify(addresses, int(sock.get("port_value", 0)), cluster, status):
                    continue
                yield {
                    "name": ",".join(addresses),
                    "status": status,
                    "locality": where,
                    "cluster": cluster,
                    "weight": lb.get("load_balancing_weight", ""),
                    "priority": group.get("priority", 0),
                    "version": entry.get("version_info", ""),
                    "_raw": lb,
                }


def ecds_rows(raws: list[dict[str, Any]]) -> Iterator[Row]:
    """PrintEcdsSummary over every EcdsConfigDump (Envoy writes one per filter kind), ordered
    by type, then name; a config whose type is not given has an empty TYPE."""
    found = []
    for raw in raws:
        for entry in raw.get("ecds_filters", []):
            ext = entry.get("ecds_filter") or {}
            type_url = str((ext.get("typed_config") or {}).get("@type", ""))
            found.append((type_url, str(ext.get("name", "")), entry, ext))
    found.sort(key=lambda f: (f[0], f[1]))
    for type_url, name, entry, ext in found:
        yield {
            "name": name,
            "type": type_url.removeprefix(TYPE_URL_PREFIX),
            "version": entry.get("version_info", ""),
            "last_updated": entry.get("last_updated", ""),
            "_raw": ext,
        }
