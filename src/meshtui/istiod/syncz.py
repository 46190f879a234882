"""Every proxy's xDS sync status, like `istioctl proxy-status`, from istiod's answers.

Three shapes are read, each as Istio defines it:
- `/debug/syncz` of Istio 1.17 and older: a JSON list of SyncStatus objects with
  `cluster_sent` / `cluster_acked` (listener, route, endpoint, extensionconfig) nonces
  (istio/istio pilot/pkg/xds/debug.go, SyncStatus);
- newer `/debug/syncz`: the same plus `proxy_type` and `resources`, a map from type URL
  to ResourceStatus {sent, acked, sentTime, lastError} (the NACK message);
- the xDS answer `istioctl proxy-status` receives: a DiscoveryResponse whose resources
  are `envoy.service.status.v3.ClientConfig` with `genericXdsConfigs[].configStatus`
  (pilot/pkg/xds/statusgen.go, debugSyncz / debugSyncStatus).
Statuses read like istioctl's (istioctl/pkg/writer/pilot/status.go): SYNCED when the
acked nonce equals the sent one, NOT SENT when nothing was sent, STALE otherwise; an
xDS answer may also say ERROR (a NACK) and IGNORED (the proxy did not subscribe).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from meshtui.istiod.metrics import IstiodFormatError
from meshtui.istiod.summary import Reject

# column -> (type URL, the 1.17 field prefix)
XDS_COLUMNS: dict[str, tuple[str, str]] = {
    "CDS": ("type.googleapis.com/envoy.config.cluster.v3.Cluster", "cluster"),
    "LDS": ("type.googleapis.com/envoy.config.listener.v3.Listener", "listener"),
    "EDS": ("type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", "endpoint"),
    "RDS": ("type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "route"),
    "ECDS": ("type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig", "extensionconfig"),
}
COLUMN_OF_TYPE = {url: col for col, (url, _) in XDS_COLUMNS.items()}
REJECT_COLUMN = {"cds": "CDS", "lds": "LDS", "eds": "EDS", "rds": "RDS"}
SYNCED, NOT_SENT, STALE, ERROR, IGNORED = "SYNCED", "NOT SENT", "STALE", "ERROR", "IGNORED"
_XDS_STATUS = {"SYNCED": SYNCED, "NOT_SENT": NOT_SENT, "STALE": STALE, "ERROR": ERROR, "UNKNOWN": IGNORED}
_TROUBLE = (STALE, ERROR)


@dataclass(frozen=True, slots=True)
class XdsStatus:
    status: str
    nack: str = ""  # the NACK message (lastError / errorState), or the reject gauge's gRPC code
    sent: str = ""  # the last nonce (or version) istiod sent: a new one is a push to this proxy


@dataclass(frozen=True, slots=True)
class ProxySync:
    proxy: str  # the proxy id istiod knows: POD.NAMESPACE
    cluster_id: str
    istiod: str
    version: str
    proxy_type: str
    statuses: tuple[XdsStatus, ...]  # in XDS_COLUMNS order

    @property
    def pod(self) -> str:
        return self.proxy.rsplit(".", 1)[0]

    @property
    def namespace(self) -> str:
        return self.proxy.rsplit(".", 1)[1] if "." in self.proxy else ""

    @property
    def stale(self) -> bool:
        return any(s.status in _TROUBLE for s in self.statuses)

    @property
    def nacks(self) -> tuple[tuple[str, str], ...]:
        return tuple((col, s.nack) for col, s in zip(XDS_COLUMNS, self.statuses, strict=True) if s.nack)


def nonce_status(sent: str, acked: str) -> str:
    """istioctl's xdsStatus for the JSON syncz."""
    if not sent:
        return NOT_SENT
    return SYNCED if sent == acked else STALE


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _from_syncz(item: Mapping[str, Any], istiod: str) -> ProxySync:
    resources = item.get("resources")
    resources = resources if isinstance(resources, dict) else {}
    statuses = []
    for url, prefix in XDS_COLUMNS.values():
        res = resources.get(url)
        if isinstance(res, dict):  # newer istiod: per type URL, with the NACK message
            sent, acked, error = _text(res.get("sent")), _text(res.get("acked")), _text(res.get("lastError"))
        else:
            sent, acked, error = _text(item.get(f"{prefix}_sent")), _text(item.get(f"{prefix}_acked")), ""
        statuses.append(XdsStatus(nonce_status(sent, acked), error, sent))
    return ProxySync(
        proxy=_text(item.get("proxy")),
        cluster_id=_text(item.get("cluster_id")),
        istiod=istiod,
        version=_text(item.get("istio_version") or item.get("proxy_version")),
        proxy_type=_text(item.get("proxy_type")),
        statuses=tuple(statuses),
    )


def _from_client_config(res: Mapping[str, Any], istiod: str) -> ProxySync:
    node = _obj(res.get("node"))
    meta = _obj(node.get("metadata"))
    configs = res.get("genericXdsConfigs")
    by_col: dict[str, XdsStatus] = {}
    for cfg in configs if isinstance(configs, list) else []:
        if not isinstance(cfg, dict):
            raise IstiodFormatError("genericXdsConfigs entries must be objects")
        col = COLUMN_OF_TYPE.get(_text(cfg.get("typeUrl")))
        if col is None:
            continue
        state = _obj(cfg.get("errorState"))
        status = _XDS_STATUS.get(_text(cfg.get("configStatus")) or "UNKNOWN", IGNORED)
        by_col[col] = XdsStatus(status, _text(state.get("details")), _text(cfg.get("versionInfo")))
    return ProxySync(
        proxy=_text(node.get("id")),
        cluster_id=_text(meta.get("CLUSTER_ID")),
        istiod=istiod,
        version=_text(meta.get("ISTIO_VERSION")),
        proxy_type="",
        statuses=tuple(by_col.get(col, XdsStatus(IGNORED)) for col in XDS_COLUMNS),
    )


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _istiod_of(doc: Mapping[str, Any]) -> str:
    """The control plane's identifier is JSON with an ID (statusgen / istioctl multixds)."""
    ident = _obj(doc.get("controlPlane")).get("identifier")
    try:
        parsed = json.loads(ident) if isinstance(ident, str) and ident.startswith("{") else {}
    except ValueError:
        parsed = {}
    return _text(parsed.get("ID")) if isinstance(parsed, dict) else ""


def parse_syncz(body: str | bytes, istiod: str = "") -> tuple[ProxySync, ...]:
    """Any of the three shapes; STALE (and ERROR) proxies first, then by name."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise IstiodFormatError(f"syncz is not JSON: {str(exc).splitlines()[0][:120]}") from exc
    if isinstance(doc, list):
        if not all(isinstance(item, dict) for item in doc):
            raise IstiodFormatError("syncz: expected a list of objects, one per proxy")
        rows = [_from_syncz(item, istiod) for item in doc]
    elif isinstance(doc, dict) and isinstance(doc.get("resources"), list):
        source = istiod or _istiod_of(doc)
        if not all(isinstance(r, dict) for r in doc["resources"]):
            raise IstiodFormatError("xDS answer: resources must be ClientConfig objects")
        rows = [_from_client_config(r, source) for r in doc["resources"]]
    else:
        raise IstiodFormatError(
            "not a syncz answer: expected /debug/syncz's list or an xDS DiscoveryResponse of ClientConfig"
        )
    return sort_rows(rows)


def sort_rows(rows: Iterable[ProxySync]) -> tuple[ProxySync, ...]:
    return tuple(sorted(rows, key=lambda r: (not r.stale, r.namespace, r.pod, r.istiod)))


def with_rejects(rows: Iterable[ProxySync], rejects: Iterable[Reject]) -> tuple[ProxySync, ...]:
    """Istio 1.17 keeps a NACK's gRPC code in the `err` label of pilot_xds_<type>_reject:
    shown beside the proxy where syncz itself carries no message."""
    codes: dict[tuple[str, str], str] = {}
    for r in rejects:
        col = REJECT_COLUMN.get(r.xds_type)
        if col is not None and r.count > 0:
            # `node` is the proxy id (POD.NS), or Envoy's whole node id (TYPE~IP~POD.NS~DOMAIN)
            parts = r.node.split("~")
            proxy = parts[2] if len(parts) == 4 else r.node
            codes[(proxy, col)] = f"rejected ({r.err or 'no code'})"
    if not codes:
        return tuple(rows)
    out = []
    for row in rows:
        # the gauge never goes down: a code is shown only beside a type still not acked
        statuses = tuple(
            XdsStatus(s.status, codes[(row.proxy, col)], s.sent)
            if not s.nack and s.status in _TROUBLE and (row.proxy, col) in codes
            else s
            for col, s in zip(XDS_COLUMNS, row.statuses, strict=True)
        )
        out.append(ProxySync(row.proxy, row.cluster_id, row.istiod, row.version, row.proxy_type, statuses))
    return sort_rows(out)


def sync_record(row: ProxySync) -> dict[str, Any]:
    return {
        "proxy": row.proxy,
        "pod": row.pod,
        "namespace": row.namespace,
        "cluster": row.cluster_id,
        "istiod": row.istiod,
        "version": row.version,
        "proxy_type": row.proxy_type,
        **{col: s.status for col, s in zip(XDS_COLUMNS, row.statuses, strict=True)},
        "nacks": {col: msg for col, msg in row.nacks},
    }
