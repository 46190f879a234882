"""Envoy's `/config_dump`: what the proxy was told, as the tables `istioctl proxy-config`
prints from it, row for row (istio/istio at 86c9f01f, istioctl/pkg/writer/envoy/configdump).

Sections: clusters (with the DestinationRule that shaped them), listeners (a row per filter
chain: config_listeners.py), routes (with their VirtualService: config_listeners.py),
endpoints and ECDS (config_eds.py), secrets (config_secrets.py) and bootstrap (versions,
node, metadata, tracing, stats matcher). Rows carry istioctl's values under its column
names and meshtui's extras (state, version, last update) beside them. Private keys never
leave this module: Envoy redacts them, and `redact` removes them again from anything shown raw.
"""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from meshtui.envoy.clusters import proto_field
from meshtui.envoy.config_eds import EndpointFilter, cluster_order, ecds_rows, endpoint_rows, subset_key
from meshtui.envoy.config_listeners import (
    istio_config,
    istio_config_path,
    listener_entries,
    listener_rows,
    route_rows,
)
from meshtui.envoy.config_secrets import secret_rows

SECTIONS = ("clusters", "listeners", "routes", "endpoints", "secrets", "ecds", "bootstrap")
_DUMP_TYPE = {
    "listeners": "ListenersConfigDump",
    "routes": "RoutesConfigDump",
    "clusters": "ClustersConfigDump",
    "bootstrap": "BootstrapConfigDump",
    "secrets": "SecretsConfigDump",
    "endpoints": "EndpointsConfigDump",
    "ecds": "EcdsConfigDump",
}
REDACTED = "[redacted by meshtui]"

# istioctl proxy-config's columns (its header names), then meshtui's extras
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "bootstrap": (("key", "KEY"), ("value", "VALUE")),
    "clusters": (
        ("service", "SERVICE FQDN"),
        ("port", "PORT"),
        ("subset", "SUBSET"),
        ("direction", "DIRECTION"),
        ("type", "TYPE"),
        ("destination_rule", "DESTINATION RULE"),
        ("state", "STATE"),
    ),
    "listeners": (
        ("name", "NAME"),
        ("addresses", "ADDRESSES"),
        ("port", "PORT"),
        ("match", "MATCH"),
        ("destination", "DESTINATION"),
        ("state", "STATE"),
    ),
    "routes": (
        ("name", "NAME"),
        ("vhost", "VHOST NAME"),
        ("domains", "DOMAINS"),
        ("match", "MATCH"),
        ("virtual_service", "VIRTUAL SERVICE"),
        ("destination", "DESTINATION"),
    ),
    "secrets": (
        ("name", "RESOURCE NAME"),
        ("type", "TYPE"),
        ("status", "STATUS"),
        ("valid", "VALID CERT"),
        ("serial", "SERIAL NUMBER"),
        ("not_after", "NOT AFTER"),
        ("not_before", "NOT BEFORE"),
        ("trust_domain", "TRUST DOMAIN"),
        ("expires_in", "EXPIRES IN"),
    ),
    "endpoints": (
        ("name", "ENDPOINT"),
        ("status", "STATUS"),
        ("locality", "LOCALITY"),
        ("cluster", "CLUSTER"),
    ),
    "ecds": (("name", "ECDS NAME"), ("type", "TYPE")),
    # not a dump section: the tracer and its collector's answers (tracing_health.py)
    "tracing": (("check", "CHECK"), ("value", "VALUE"), ("verdict", "VERDICT")),
}


def cell(value: Any) -> str:
    """A row's value as istioctl prints it: booleans as Go's %t (VALID CERT), the rest as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
def sections(doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The raw configs of one section (its `...ConfigDump` entries: Envoy writes one ECDS
    entry per filter kind, one of everything else), [] when Envoy has none."""
    wanted = _DUMP_TYPE[name]  # exact: ScopedRoutesConfigDump also ends in RoutesConfigDump
    return [
        c
        for c in doc["configs"]
        if isinstance(c, dict) and str(c.get("@type", "")).rsplit(".", 1)[-1] == wanted
    ]


def section(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The raw config of one section, {} when Envoy has none."""
    found = sections(doc, name)
    return found[0] if found else {}


@_own_errors("bootstrap section")
def bootstrap_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The bootstrap Envoy started from, {} when the dump has none."""
    b = section(doc, "bootstrap").get("bootstrap") or {}
    if not isinstance(b, dict):
        raise ConfigDumpError("malformed bootstrap section: the bootstrap is not an object")
    return b


def rows(
    doc: dict[str, Any],
    name: str,
    *,
    endpoints: EndpointFilter | None = None,
    now: datetime.datetime | None = None,
) -> list[Row]:
    """The table of one section; every row keeps its raw object under `_raw` for the JSON view.
    `endpoints` narrows the endpoints as istioctl's flags do; `now` dates the secrets' validity."""
    if name not in SECTIONS:
        raise ConfigDumpError(f"no section {name!r}: one of {', '.join(SECTIONS)}")

    def build() -> list[Row]:
        if name == "ecds":
            return list(ecds_rows(sections(doc, name)))
        if name == "endpoints":
            return list(endpoint_rows(section(doc, name), endpoints))
        if name == "secrets":
            return list(secret_rows(section(doc, name), now))
        return list(_ROWS[name](section(doc, name)))

    return _own_errors(f"{name} section")(build)()


def public(row: Row) -> Row:
    """A row without its raw object, for headless JSON and tables."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


# -- clusters --------------------------------------------------------------------------


def _cluster_rows(raw: dict[str, Any]) -> Iterator[Row]:
    """PrintClusterSummary: Istio's names split into service, port, subset and direction
    (model.ParseSubsetKey), any other name as its own service with `-`; TYPE is the proto's
    (STATIC when Envoy wrote none, as Go reads it); DESTINATION RULE from the cluster's
    `istio` metadata. Warming clusters, which istioctl skips, are meshtui's extra rows."""
    entries = [
        (kind, e)
        for kind in ("dynamic_active_clusters", "static_clusters", "dynamic_warming_clusters")
        for e in raw.get(kind, [])
    ]
    entries.sort(key=lambda e: cluster_order(str(e[1]["cluster"].get("name", ""))))
    for kind, entry in entries:
        c = entry["cluster"]
        name = str(c.get("name", ""))
        key = subset_key(name)
        direction, subset, service, port = key if key else ("-", "-", name, "-")
        yield {
            "name": name,
            "service": service,
            "port": port,
            "subset": subset or "-",
            "direction": direction,
            "type": c.get("type", "STATIC"),
            "destination_rule": istio_config(c.get("metadata")),
            "state": kind.removesuffix("_clusters").replace("dynamic_", ""),
            "version": entry.get("version_info", ""),
            "last_updated": entry.get("last_updated", ""),
            "_config_path": istio_config_path(c.get("metadata")),
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
    for _state, listener, _version, _updated in listener_entries(section(doc, "listeners")):
        for chain in listener.get("filter_chains", []):
            for f in chain.get("filters", []):
                tracing = (f.get("typed_config") or {}).get("tracing") or {}
                value = (tracing.get("random_sampling") or {}).get("value")
                if value is not None:
                    found.add(float(value))
    return sorted(found)


def versions(bootstrap: dict[str, Any]) -> dict[str, str]:
    """PrintBootstrapSummary's lines (configdump.go getIstioVersionInfo, getUserAgentVersionInfo):
    the Istio version and proxy SHA from the node's metadata, when there, and Envoy's build
    version, always (0.0.0 when the node does not say)."""
    node = bootstrap.get("node") or {}
    meta = node.get("metadata") or {}  # a Struct: its keys are the proxy's own
    out = {}
    if meta.get("ISTIO_VERSION"):
        out["Istio Version"] = str(meta["ISTIO_VERSION"])
    if sha := str(meta.get("ISTIO_PROXY_SHA", "")):
        out["Istio Proxy Version"] = sha.split(":")[1] if ":" in sha else sha
    # istioctl reads this through protojson, which takes camelCase names too (its testdata has them)
    build = proto_field(node, "user_agent_build_version") or {}
    v = build.get("version") or {}
    text = ".".join(str(int(proto_field(v, k, 0))) for k in ("major_number", "minor_number", "patch"))
    bmeta = build.get("metadata") or {}
    for key, sep in (
        ("build.label", "-"),
        ("revision.status", "/"),
        ("build.type", "/"),
        ("ssl.version", "/"),
    ):
        if key in bmeta:
            text += sep + str(bmeta[key])
    out["Envoy Version"] = text
    return out


def _bootstrap_rows(raw: dict[str, Any]) -> Iterator[Row]:
    b = raw.get("bootstrap", {})
    node = b.get("node", {})

    def row(key: str, value: Any, obj: Any = None) -> Row:
        shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        return {"key": key, "value": shown, "_raw": obj if obj is not None else value}

    for key, value in versions(b).items():
        yield row(key, value, node)
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


_ROWS: dict[str, Callable[[dict[str, Any]], Iterator[Row]]] = {
    "listeners": listener_rows,
    "routes": route_rows,
    "clusters": _cluster_rows,
    "bootstrap": _bootstrap_rows,
}
