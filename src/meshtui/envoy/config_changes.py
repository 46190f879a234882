"""What changed between two of a proxy's config dumps, per resource, in Envoy's and
Istio's words rather than as a text diff of JSON:

    route 80 / vhost catalog.istioinaction.svc.cluster.local:80 / route default: retries 0 -> 4
    cluster outbound|80||catalog.istioinaction.svc.cluster.local: added

Resources are the clusters, the listeners and each route of each virtual host (a route
config of one route per host would otherwise read as one big change), matched by name;
`version_info` and `last_updated` are not changes. A few fields are named as users know
them: no `retry_policy` is 0 retries (Envoy retries nothing without one), a policy without
`num_retries` is 1 (Envoy's default, envoy/config/route/v3/route_components.proto).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from meshtui import spec_diff

CLUSTERS = "type.googleapis.com/envoy.admin.v3.ClustersConfigDump"
LISTENERS = "type.googleapis.com/envoy.admin.v3.ListenersConfigDump"
ROUTES = "type.googleapis.com/envoy.admin.v3.RoutesConfigDump"

# leaf path prefix -> its name in a change line (the first that matches)
NAMES = (
    ("route.retry_policy.retry_on", "retry on"),
    ("route.retry_policy.per_try_timeout", "per-try timeout"),
    ("route.timeout", "timeout"),
    ("route.cluster", "cluster"),
    ("route.weighted_clusters", "weights"),
    ("typed_per_filter_config.envoy.filters.http.fault", "fault"),
    ("metadata.filter_metadata.istio.config", "from"),
)


@dataclass(frozen=True, slots=True)
class ResourceChange:
    resource: str  # "cluster NAME", "listener NAME", "route CONFIG / vhost NAME / route NAME"
    change: str  # added, removed, changed
    fields: tuple[tuple[str, Any, Any], ...] = ()  # (name, old, new); spec_diff.MISSING where none

    def line(self) -> str:
        if self.change != "changed":
            return f"{self.resource}: {self.change}"
        return f"{self.resource}: " + ", ".join(
            f"{name} {spec_diff.shown(o)} -> {spec_diff.shown(n)}" for name, o, n in self.fields
        )

    def as_json(self) -> dict[str, Any]:
        fields = spec_diff.as_json(list(self.fields))
        return {"resource": self.resource, "change": self.change, "fields": fields}


def _configs(dump: Mapping[str, Any], type_url: str) -> list[Mapping[str, Any]]:
    return [c for c in dump.get("configs") or [] if isinstance(c, Mapping) and c.get("@type") == type_url]


def resources(dump: Mapping[str, Any]) -> dict[str, Any]:
    """Every cluster, listener and route of a `/config_dump`, by its name as a change line says it."""
    out: dict[str, Any] = {}
    for section in _configs(dump, CLUSTERS):
        for key in ("static_clusters", "dynamic_active_clusters", "dynamic_warming_clusters"):
            for item in section.get(key) or []:
                cluster = item.get("cluster") or {}
                out[f"cluster {cluster.get('name', '?')}"] = cluster
    for section in _configs(dump, LISTENERS):
        for item in section.get("static_listeners") or []:
            listener = item.get("listener") or {}
            out[f"listener {listener.get('name', '?')}"] = listener
        for item in section.get("dynamic_listeners") or []:
            listener = (item.get("active_state") or item.get("warming_state") or {}).get("listener") or {}
            out[f"listener {item.get('name') or listener.get('name', '?')}"] = listener
    for section in _configs(dump, ROUTES):
        for key in ("static_route_configs", "dynamic_route_configs"):
            for item in section.get(key) or []:
                config = item.get("route_config") or {}
                out.update(_routes(config))
    return out


def _routes(config: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    name = config.get("name", "?")
    for vhost in config.get("virtual_hosts") or []:
        where = f"route {name} / vhost {vhost.get('name', '?')}"
        for i, route in enumerate(vhost.get("routes") or []):
            yield f"{where} / route {route.get('name') or f'#{i}'}", route


def _retries(route: Any) -> int:
    policy = (route.get("route") or {}).get("retry_policy") if isinstance(route, Mapping) else None
    if policy is None:
        return 0
    return int(policy.get("num_retries", 1))


def _named(path: str) -> str:
    for prefix, name in NAMES:
        if path.startswith(prefix):
            return name + path[len(prefix) :] if name in ("weights", "fault") else name
    return path


def _fields(old: Any, new: Any) -> tuple[tuple[str, Any, Any], ...]:
    found = [c for c in spec_diff.changes(old, new) if not c[0].endswith(("version_info", "last_updated"))]
    out: list[tuple[str, Any, Any]] = []
    if any(p.startswith("route.retry_policy") for p, _, _ in found):
        before, after = _retries(old), _retries(new)
        if before != after:
            out.append(("retries", before, after))
        found = [c for c in found if c[0] != "route.retry_policy.num_retries"]
    out += (
        (_named(p), _object(o), _object(n)) if _named(p) == "from" else (_named(p), o, n) for p, o, n in found
    )
    return tuple(out)


def _object(path: Any) -> Any:
    """istiod's `/apis/G/V/namespaces/NS/virtual-service/NAME` mark as `virtual-service NS/NAME`."""
    parts = path.split("/") if isinstance(path, str) else []
    if len(parts) >= 4 and "namespaces" in parts:
        return f"{parts[-2]} {parts[-3]}/{parts[-1]}"
    return path


def config_changes(old_dump: Mapping[str, Any], new_dump: Mapping[str, Any]) -> list[ResourceChange]:
    """What changed from one config dump to the next, resource by resource, in name order."""
    before, after = resources(old_dump), resources(new_dump)
    out = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            out.append(ResourceChange(name, "added"))
        elif name not in after:
            out.append(ResourceChange(name, "removed"))
        elif fields := _fields(before[name], after[name]):
            out.append(ResourceChange(name, "changed", fields))
    return out
