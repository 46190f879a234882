"""What istiod sent a proxy against what its Envoy holds, per resource type.

As `istioctl proxy-status POD` does it (istio/istio istioctl/pkg/writer/compare/*.go and
istioctl/pkg/util/configdump/{cluster,listener,route}.go): only the dynamic resources,
sorted by name (virtual hosts too), version_info and last_updated stripped, listeners'
draining state dropped, then a unified diff of the indented JSON per type. Numbers are compared
by value (10.0 is 10), as the two sides spell integral doubles differently.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

from meshtui.istiod.metrics import IstiodFormatError

_SECTION = {
    "Clusters": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
    "Listeners": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
    "Routes": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
}


@dataclass(frozen=True, slots=True)
class TypeDiff:
    kind: str  # Clusters, Listeners, Routes
    lines: tuple[str, ...]  # a unified diff; empty when they match

    @property
    def matches(self) -> bool:
        return not self.lines


def _section(dump: Any, type_url: str) -> dict[str, Any] | None:
    configs = dump.get("configs") if isinstance(dump, dict) else None
    for c in configs if isinstance(configs, list) else []:
        if isinstance(c, dict) and c.get("@type") == type_url:
            return c
    return None


def _name(resource: Any) -> str:
    return str(resource.get("name", "")) if isinstance(resource, dict) else ""


def _clusters(section: dict[str, Any]) -> Any:
    out = []
    for c in section.get("dynamic_active_clusters") or []:
        if isinstance(c, dict):
            out.append({k: v for k, v in c.items() if k not in ("version_info", "last_updated")})
    out.sort(key=lambda c: _name(c.get("cluster")))
    return {"dynamic_active_clusters": out}


def _listeners(section: dict[str, Any]) -> Any:
    out = []
    for listener in section.get("dynamic_listeners") or []:
        if not isinstance(listener, dict) or not isinstance(listener.get("active_state"), dict):
            continue  # a reloading listener's draining state is not compared
        active = {
            k: v for k, v in listener["active_state"].items() if k not in ("version_info", "last_updated")
        }
        out.append({"active_state": active})
    out.sort(key=lambda entry: _name(entry["active_state"].get("listener")))
    return {"dynamic_listeners": out}


def _routes(section: dict[str, Any]) -> Any:
    out = []
    for r in section.get("dynamic_route_configs") or []:
        if not isinstance(r, dict):
            continue
        entry = {k: v for k, v in r.items() if k not in ("version_info", "last_updated")}
        config = entry.get("route_config")
        if isinstance(config, dict) and isinstance(config.get("virtual_hosts"), list):
            hosts = sorted(config["virtual_hosts"], key=_name)
            entry["route_config"] = {**config, "virtual_hosts": hosts}
        out.append(entry)
    out.sort(key=lambda e: _name(e.get("route_config")))
    return {"dynamic_route_configs": out}


_NORMALISE = {"Clusters": _clusters, "Listeners": _listeners, "Routes": _routes}


def _number(text: str) -> float | int:
    """A JSON number as protobuf JSON spells it: an integral double is written as an integer
    (google.golang.org/protobuf encoding/protojson, and Envoy's own dump), so 10.0 and 10 are the
    same value and must not make a whole type "Don't Match"."""
    value = float(text)
    return int(value) if value.is_integer() else value


def _load(body: str, who: str) -> Any:
    try:
        return json.loads(body, parse_float=_number)
    except ValueError as exc:
        raise IstiodFormatError(f"{who}'s config dump is not JSON") from exc


def _text(dump: Any, kind: str) -> list[str]:
    section = _section(dump, _SECTION[kind])
    if section is None:
        return [f"no {kind.lower()} section in the dump"]
    return json.dumps(_NORMALISE[kind](section), indent=4, sort_keys=True).splitlines()


def diff_config(istiod_dump: str, envoy_dump: str, context: int = 3) -> tuple[TypeDiff, ...]:
    a, b = _load(istiod_dump, "istiod"), _load(envoy_dump, "Envoy")
    out = []
    for kind in _SECTION:
        lines = difflib.unified_diff(
            _text(a, kind), _text(b, kind), f"Istiod {kind}", f"Envoy {kind}", n=context, lineterm=""
        )
        out.append(TypeDiff(kind, tuple(lines)))
    return tuple(out)
