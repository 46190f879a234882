"""ADS over gRPC, state of the world, as istiod 1.17 serves its sidecars (grpcio + xds-protos).

The request handling follows istio/istio pilot/pkg/xds/ads.go `shouldRespond`: a request
with `error_detail` is a NACK (counted, never answered, its message kept); an empty
nonce or a new type is a subscription (answered); a nonce that is not the last one sent
is expired (counted, ignored); otherwise it is an ACK, answered only when the resource
names changed. A push (`push`) sends every watched type in Istio's order with a new
version (`RFC3339/N`, pilot/pkg/xds/discovery.go) and a fresh nonce per response.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

# the Envoy API messages a response may carry (json_format resolves `@type` through them)
import envoy.config.cluster.v3.cluster_pb2 as cluster_pb2
import envoy.config.endpoint.v3.endpoint_pb2 as endpoint_pb2
import envoy.config.listener.v3.listener_pb2 as listener_pb2
import envoy.config.route.v3.route_pb2 as route_pb2
import envoy.config.trace.v3.zipkin_pb2
import envoy.extensions.access_loggers.file.v3.file_pb2
import envoy.extensions.filters.http.fault.v3.fault_pb2
import envoy.extensions.filters.http.router.v3.router_pb2
import envoy.extensions.filters.network.http_connection_manager.v3.http_connection_manager_pb2
import envoy.extensions.transport_sockets.tls.v3.tls_pb2  # noqa: F401
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from google.protobuf import any_pb2, json_format

from meshtui.demo.xds.generate import generate
from meshtui.demo.xds.metrics import IstiodMetrics
from meshtui.demo.xds.model import PUSH_ORDER, SHORT, TYPE_ENDPOINT, TYPE_ROUTE, Config, Proxy, Service

log = logging.getLogger("meshtui.demo.istiod")
MESSAGES = {
    "type.googleapis.com/envoy.config.cluster.v3.Cluster": cluster_pb2.Cluster,
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment": endpoint_pb2.ClusterLoadAssignment,
    "type.googleapis.com/envoy.config.listener.v3.Listener": listener_pb2.Listener,
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration": route_pb2.RouteConfiguration,
}
# Go's codes.Code.String() for what Envoy puts in a NACK's error_detail
GRPC_CODES = {2: "Unknown", 3: "InvalidArgument", 9: "FailedPrecondition", 13: "Internal", 14: "Unavailable"}


def to_any(type_url: str, resource: dict[str, Any]) -> any_pb2.Any:
    msg = json_format.ParseDict(resource, MESSAGES[type_url](), ignore_unknown_fields=True)
    out = any_pb2.Any()
    out.Pack(msg)
    return out


@dataclass
class Watched:
    """model.WatchedResource: what one proxy subscribed to for one type, and where it is."""

    names: list[str]
    nonce_sent: str = ""
    nonce_acked: str = ""
    version_sent: str = ""
    version_acked: str = ""
    nack: str = ""  # the last NACK's error_detail message, cleared by the next ACK
    sent: list[dict[str, Any]] = field(default_factory=list)
    sent_at: float = 0.0


@dataclass
class Connection:
    node_id: str = ""
    istio_version: str = ""
    cluster_id: str = ""
    watched: dict[str, Watched] = field(default_factory=dict)
    out: asyncio.Queue[discovery_pb2.DiscoveryResponse | None] = field(default_factory=asyncio.Queue)
    connected_at: float = field(default_factory=time.time)

    def synced(self) -> bool:
        return all(w.nonce_sent == w.nonce_acked for w in self.watched.values())


class DiscoveryServer(ads_pb2_grpc.AggregatedDiscoveryServiceServicer):
    def __init__(self, metrics: IstiodMetrics) -> None:
        self.metrics = metrics
        self.config = Config()
        self.services: dict[str, Service] = {}
        self.proxies: dict[str, Proxy] = {}  # by node id, registered before the Envoy starts
        self.connections: dict[str, Connection] = {}
        self._push_no = itertools.count(1)
        self.version = self._next_version()
        self.on_change: Callable[[], None] | None = None

    def _next_version(self) -> str:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{now}/{next(self._push_no)}"

    # -- ADS stream --------------------------------------------------------------------

    async def StreamAggregatedResources(
        self, request_iterator: AsyncIterator[discovery_pb2.DiscoveryRequest], context: Any
    ) -> AsyncIterator[discovery_pb2.DiscoveryResponse]:
        con = Connection()
        reader = asyncio.ensure_future(self._read(con, request_iterator))
        try:
            while (resp := await con.out.get()) is not None:
                yield resp
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
            if con.node_id and self.connections.get(con.node_id) is con:
                del self.connections[con.node_id]
                self.metrics.xds.labels(con.istio_version).dec()
            self._changed()

    async def _read(self, con: Connection, requests: AsyncIterator[discovery_pb2.DiscoveryRequest]) -> None:
        try:
            async for req in requests:
                if not con.node_id:
                    meta = json_format.MessageToDict(req.node.metadata)
                    con.node_id = req.node.id
                    con.istio_version = str(meta.get("ISTIO_VERSION", ""))
                    con.cluster_id = str(meta.get("CLUSTER_ID", ""))
                    self.connections[con.node_id] = con
                    self.metrics.xds.labels(con.istio_version).inc()  # recordXDSClients(version, 1)
                self._on_request(con, req)
        finally:
            con.out.put_nowait(None)

    def _on_request(self, con: Connection, req: discovery_pb2.DiscoveryRequest) -> None:
        short = SHORT.get(req.type_url, req.type_url)
        w = con.watched.get(req.type_url)
        if req.HasField("error_detail"):
            if w is not None:
                w.nack = req.error_detail.message
            code = GRPC_CODES.get(req.error_detail.code, f"Code({req.error_detail.code})")
            # istiod logs it so (ads.go): the NACK's message is nowhere else on a real istiod
            log.warning(
                "ADS:%s: ACK ERROR %s %s:%s", short.upper(), con.node_id, code, req.error_detail.message
            )
            self.metrics.counters.inc("pilot_total_xds_rejects", short)
            if short in self.metrics.rejects:
                self.metrics.rejects[short].labels(con.node_id, code).inc()
            self._changed()
            return
        if not req.response_nonce or w is None:
            con.watched[req.type_url] = Watched(names=list(req.resource_names))
            self._send(con, req.type_url)
            return
        if req.response_nonce != w.nonce_sent:
            self.metrics.counters.inc("pilot_xds_expired_nonce", short)
            return
        w.nonce_acked, w.version_acked, w.nack = req.response_nonce, req.version_info, ""
        changed = set(w.names) != set(req.resource_names)
        w.names = list(req.resource_names)
        self._changed()
        if changed:
            self._send(con, req.type_url)

    def _send(self, con: Connection, type_url: str) -> None:
        t0 = time.monotonic()
        w = con.watched[type_url]
        proxy = self.proxies.get(con.node_id)
        resources: list[dict[str, Any]] = []
        if proxy is not None:
            pods = list(self.proxies.values())
            resources = generate(type_url, self.config, proxy, self.services, pods, w.names)
        anys = [to_any(type_url, r) for r in resources]
        nonce = str(uuid.uuid4())
        con.out.put_nowait(
            discovery_pb2.DiscoveryResponse(
                version_info=self.version, type_url=type_url, nonce=nonce, resources=anys
            )
        )
        w.nonce_sent, w.version_sent, w.sent_at = nonce, self.version, time.time()
        w.sent = [{"@type": type_url, **r} for r in resources]
        # xdsgen.go pushXds: config size per full type URL; push time and count per short type
        self.metrics.config_size.labels(type_url).observe(sum(len(a.value) for a in anys))
        self.metrics.push_time.labels(SHORT[type_url]).observe(time.monotonic() - t0)
        self.metrics.counters.inc("pilot_xds_pushes", SHORT[type_url])
        self._changed()

    # -- pushes ------------------------------------------------------------------------

    def push(self, trigger: str, types: tuple[str, ...] = PUSH_ORDER) -> str:
        """A push to every connected proxy (pilot_push_triggers{type=trigger}); returns its version."""
        start = time.monotonic()
        self.version = self._next_version()
        self.metrics.counters.inc("pilot_push_triggers", trigger)
        self.refresh_gauges()
        for con in list(self.connections.values()):
            self.metrics.queue_time.observe(time.monotonic() - start)
            for type_url in types:
                if type_url in con.watched:
                    self._send(con, type_url)
            self.metrics.convergence.observe(time.monotonic() - start)
        return self.version

    def push_endpoints(self) -> str:
        """An incremental EDS push, as istiod sends when only endpoints changed."""
        return self.push("endpoint", (TYPE_ENDPOINT,))

    def push_routes(self) -> str:
        return self.push("config", (TYPE_ROUTE,))

    def refresh_gauges(self) -> None:
        self.metrics.services.set(len(self.services))
        self.metrics.virt_services.set(len(self.config.virtual_services))

    def _changed(self) -> None:
        if self.on_change:
            self.on_change()

    # -- what the debug endpoints read -------------------------------------------------

    def syncz(self) -> list[dict[str, str]]:
        """debug.go Syncz (1.17): per proxy, the nonces sent and acked per type."""
        out = []
        for con in sorted(self.connections.values(), key=lambda c: c.node_id):
            proxy = self.proxies.get(con.node_id)
            entry = {
                "cluster_id": con.cluster_id,
                "proxy": proxy.short_id if proxy else con.node_id,
                "istio_version": con.istio_version,
            }
            for short, type_url in (
                ("cluster", PUSH_ORDER[0]),
                ("listener", PUSH_ORDER[2]),
                ("route", PUSH_ORDER[3]),
                ("endpoint", PUSH_ORDER[1]),
            ):
                w = con.watched.get(type_url)
                if w and w.nonce_sent:
                    entry[f"{short}_sent"] = w.nonce_sent
                if w and w.nonce_acked:
                    entry[f"{short}_acked"] = w.nonce_acked
            out.append(entry)
        return out

    def connection(self, proxy_id: str) -> Connection | None:
        """By `POD.NS` (as istioctl passes it) or by full node id."""
        for node_id, con in self.connections.items():
            proxy = self.proxies.get(node_id)
            if node_id == proxy_id or (proxy and proxy.short_id == proxy_id):
                return con
        return None

    def all_synced(self, node_ids: list[str] | None = None) -> bool:
        ids = node_ids if node_ids is not None else list(self.proxies)
        return all(i in self.connections and self.connections[i].synced() for i in ids)
