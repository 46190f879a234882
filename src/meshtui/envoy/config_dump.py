"""Envoy's `/config_dump`: what the proxy was told, as tables (`istioctl proxy-config ...`).

Sections: listeners, routes, clusters (static and dynamic, with version and last
update), bootstrap (node, metadata, tracing, stats matcher) and secrets (each
certificate's SPIFFE id, issuer and validity). Private keys never leave this module:
Envoy redacts them, and `redact` removes them again from anything shown raw.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from meshtui.envoy.clusters import parse_cluster_name

SECTIONS = ("listeners", "routes", "clusters", "bootstrap", "secrets")
_DUMP_TYPE = {
    "listeners": "ListenersConfigDump",
    "routes": "RoutesConfigDump",
    "clusters": "ClustersConfigDump",
    "bootstrap": "BootstrapConfigDump",
    "secrets": "SecretsConfigDump",
}
REDACTED = "[redacted by meshtui]"


class ConfigDumpError(ValueError):
    """Not Envoy's /config_dump."""


Row = dict[str, Any]
T = TypeVar("T")
# what reading an unexpected shape raises: a value where an object was, a missing key,
# a number too big for int(), nesting deeper than Python recurses
_SHAPE_ERRORS = (KeyError, TypeError, AttributeError, ValueError, IndexError, OverflowError, RecursionError)


def _own_errors(what: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Any shape error inside becomes a ConfigDumpError: an Envoy of another version may
    send shapes we never saw, and a pane shows the line instead of crashing."""

    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> T:
            try:
                return fn(*args, **kwargs)
            except ConfigDumpError:
                raise
            except _SHAPE_ERRORS as exc:
                raise ConfigDumpError(f"malformed {what}: {type(exc).__name__} {str(exc)[:80]}") from exc

        return checked

    return wrap


def parse_config_dump(body: str) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ConfigDumpError("not JSON: Envoy's /config_dump expected") from exc
    return check_config_dump(doc)


@_own_errors("/config_dump")
def check_config_dump(doc: object) -> dict[str, Any]:
    """A decoded dump, checked for its `configs` list and with private keys removed."""
    if not isinstance(doc, dict) or not isinstance(doc.get("configs"), list):
        raise ConfigDumpError("not Envoy's /config_dump (no 'configs' list)")
    return dict(redact(doc))


def redact(node: Any) -> Any:
    """A copy without private keys (any `private_key` field, whatever it holds)."""
    if isinstance(node, dict):
        return {k: (REDACTED if k == "private_key" else redact(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [redact(v) for v in node]
    return node


@_own_errors("/config_dump")
def section(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The raw config of one section (its `...ConfigDump` entry), {} when Envoy has none."""
    wanted = _DUMP_TYPE[name]  # exact: ScopedRoutesConfigDump also ends in RoutesConfigDump
    return next(
        (
            c
            for c in doc["configs"]
            if isinstance(c, dict) and str(c.get("@type", "")).rsplit(".", 1)[-1] == wanted
        ),
        {},
    )


@_own_errors("bootstrap section")
def bootstrap_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The bootstrap Envoy started from, {} when the dump has none."""
    b = section(doc, "bootstrap").get("bootstrap") or {}
    if not isinstance(b, dict):
        raise ConfigDumpError("malformed bootstrap section: the bootstrap is not an object")
    return b


def rows(doc: dict[str, Any], name: str) -> list[Row]:
    """The table of one section; every row keeps its raw object under `_raw` for the JSON view."""
    if name not in SECTIONS:
        raise ConfigDumpError(f"no section {name!r}: one of {', '.join(SECTIONS)}")
    return _own_errors(f"{name} section")(lambda: list(_ROWS[name](section(doc, name))))()


def public(row: Row) -> Row:
    """A row without its raw object, for headless JSON and tables."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


# -- listeners -------------------------------------------------------------------------


def _listener_entries(raw: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str, str]]:
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
            yield (
                "error",
                {"name": entry.get("name", "")},
                "",
                entry["error_state"].get("last_update_attempt", ""),
            )


def _destinations(listener: dict[str, Any]) -> list[str]:
    out = []
    for chain in listener.get("filter_chains", []):
        for f in chain.get("filters", []):
            cfg = f.get("typed_config") or f.get("config") or {}
            if "rds" in cfg:
                out.append("Route: " + str(cfg["rds"].get("route_config_name", "")))
            elif "route_config" in cfg:
                out.append("Route: " + str(cfg["route_config"].get("name", "(inline)")))
            elif "cluster" in cfg:
                out.append("Cluster: " + str(cfg["cluster"]))
    return list(dict.fromkeys(out))


def _listener_rows(raw: dict[str, Any]) -> Iterator[Row]:
    for state, listener, version, updated in _listener_entries(raw):
        sock = (listener.get("address") or {}).get("socket_address") or {}
        dests = _destinations(listener)
        yield {
            "name": listener.get("name", ""),
            "address": sock.get("address", ""),
            "port": sock.get("port_value", ""),
            "state": state,
            "filter_chains": len(listener.get("filter_chains", [])),
            "destination": ", ".join(dests[:3]) + (" …" if len(dests) > 3 else ""),
            "version": version,
            "last_updated": updated,
            "_raw": listener,
        }


# -- routes ----------------------------------------------------------------------------


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


def _match(route: dict[str, Any]) -> str:
    m = route.get("match", {})
    for key in ("prefix", "path", "path_separated_prefix"):
        if key in m:
            return f"{key} {m[key]}"
    if "safe_regex" in m:
        return "regex " + str(m["safe_regex"].get("regex", ""))
    return "?"


def _route_rows(raw: dict[str, Any]) -> Iterator[Row]:
    configs = [("static", e) for e in raw.get("static_route_configs", [])]
    configs += [("dynamic", e) for e in raw.get("dynamic_route_configs", [])]
    for kind, entry in configs:
        rc = entry["route_config"]
        for vh in rc.get("virtual_hosts", []):
            domains = vh.get("domains", [])
            for route in vh.get("routes", []):
                yield {
                    "route_config": rc.get("name", ""),
                    "virtual_host": vh.get("name", ""),
                    "domains": ", ".join(domains[:3])
                    + (f" (+{len(domains) - 3})" if len(domains) > 3 else ""),
                    "match": _match(route),
                    "destination": _route_target(route),
                    "kind": kind,
                    "version": entry.get("version_info", ""),
                    "last_updated": entry.get("last_updated", ""),
                    "_raw": route,
                }


# -- clusters --------------------------------------------------------------------------


def _cluster_rows(raw: dict[str, Any]) -> Iterator[Row]:
    for kind in ("static_clusters", "dynamic_active_clusters", "dynamic_warming_clusters"):
        for entry in raw.get(kind, []):
            c = entry["cluster"]
            name = c.get("name", "")
            istio = parse_cluster_name(name)
            yield {
                "name": name,
                "service": istio.service,
                "port": istio.port,
                "subset": istio.subset,
                "direction": istio.direction,
                "type": c.get("type", "EDS" if "eds_cluster_config" in c else ""),
                "state": kind.removesuffix("_clusters").replace("dynamic_", ""),
                "version": entry.get("version_info", ""),
                "last_updated": entry.get("last_updated", ""),
                "_raw": c,
            }


# -- bootstrap -------------------------------------------------------------------------


@_own_errors("bootstrap tracing")
def tracing_of(bootstrap: dict[str, Any]) -> dict[str, Any]:
    """The tracer in a bootstrap: provider, collector cluster and endpoint, 128-bit ids."""
    http = (bootstrap.get("tracing") or {}).get("http") or {}
    cfg = http.get("typed_config") or http.get("config") or {}
    if not http:
        return {}
    return {  # strings whatever was sent: the tracing checks compare and search them
        "provider": str(http.get("name", "")),
        "collector_cluster": str(cfg.get("collector_cluster", "")),
        "collector_endpoint": str(cfg.get("collector_endpoint", "")),
        "collector_endpoint_version": str(cfg.get("collector_endpoint_version", "")),
        "trace_id_128bit": str(cfg.get("trace_id_128bit", "")).lower() in ("true", "1"),
    }


@_own_errors("listeners section")
def sampling_of(doc: dict[str, Any]) -> list[float]:
    """The trace sampling percentages the listeners' HTTP connection managers apply
    (where Istio writes `tracing.sampling` from the mesh or pod proxy config)."""
    found = set()
    for _state, listener, _version, _updated in _listener_entries(section(doc, "listeners")):
        for chain in listener.get("filter_chains", []):
            for f in chain.get("filters", []):
                tracing = (f.get("typed_config") or {}).get("tracing") or {}
                value = (tracing.get("random_sampling") or {}).get("value")
                if value is not None:
                    found.add(float(value))
    return sorted(found)


def _bootstrap_rows(raw: dict[str, Any]) -> Iterator[Row]:
    b = raw.get("bootstrap", {})
    node = b.get("node", {})

    def row(key: str, value: Any, obj: Any = None) -> Row:
        shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        return {"key": key, "value": shown, "_raw": obj if obj is not None else value}

    yield row("node.id", node.get("id", ""))
    yield row("node.cluster", node.get("cluster", ""))
    for key, value in sorted((node.get("metadata") or {}).items()):
        yield row(f"node.metadata.{key}", value)
    for key, value in tracing_of(b).items():
        yield row(f"tracing.{key}", value if isinstance(value, str) else json.dumps(value), b.get("tracing"))
    matcher = (b.get("stats_config") or {}).get("stats_matcher")
    if matcher:
        yield row("stats_config.stats_matcher", matcher)
    admin = ((b.get("admin") or {}).get("address") or {}).get("socket_address") or {}
    if admin:
        yield row("admin.address", f"{admin.get('address')}:{admin.get('port_value')}")
    yield row("last_updated", raw.get("last_updated", ""))


# -- secrets ---------------------------------------------------------------------------


def _pem_of(data_source: dict[str, Any]) -> bytes | None:
    if "inline_bytes" in data_source:
        try:
            return base64.b64decode(data_source["inline_bytes"])
        except (ValueError, TypeError):
            return None
    if "inline_string" in data_source:
        return str(data_source["inline_string"]).encode()
    return None


def _certificates(pem: bytes) -> list[dict[str, Any]]:
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        return []
    out = []
    now = datetime.datetime.now(datetime.timezone.utc)
    for cert in certs:
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            uris = san.get_values_for_type(x509.UniformResourceIdentifier)
        except x509.ExtensionNotFound:
            uris = []
        not_after = cert.not_valid_after_utc
        out.append(
            {
                "spiffe_id": next((u for u in uris if u.startswith("spiffe://")), ""),
                "subject": cert.subject.rfc4514_string(),
                "issuer": cert.issuer.rfc4514_string(),
                "not_before": cert.not_valid_before_utc.isoformat(),
                "not_after": not_after.isoformat(),
                "days_left": (not_after - now).days,
                "expires_in": _left(not_after - now),
                "serial": format(cert.serial_number, "x"),
            }
        )
    return out


def _left(delta: datetime.timedelta) -> str:
    """Istio workload certificates live 24 h: days alone would always say 0."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "EXPIRED"
    if seconds >= 2 * 86400:
        return f"{seconds // 86400}d"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _secret_rows(raw: dict[str, Any]) -> Iterator[Row]:
    entries = [("static", e) for e in raw.get("static_secrets", [])]
    entries += [("active", e) for e in raw.get("dynamic_active_secrets", [])]
    entries += [("warming", e) for e in raw.get("dynamic_warming_secrets", [])]
    for state, entry in entries:
        secret = entry.get("secret", {})
        name = entry.get("name") or secret.get("name", "")
        for kind, holder in (
            ("certificate", (secret.get("tls_certificate") or {}).get("certificate_chain")),
            ("trusted CA", (secret.get("validation_context") or {}).get("trusted_ca")),
        ):
            pem = _pem_of(holder or {})
            if pem is None:
                continue
            for cert in _certificates(pem) or [{"subject": "(not a readable PEM certificate)"}]:
                yield {
                    "name": name,
                    "kind": kind,
                    "state": state,
                    **cert,
                    "version": entry.get("version_info", ""),
                    "last_updated": entry.get("last_updated", ""),
                    "_raw": secret,
                }


_ROWS = {
    "listeners": _listener_rows,
    "routes": _route_rows,
    "clusters": _cluster_rows,
    "bootstrap": _bootstrap_rows,
    "secrets": _secret_rows,
}
