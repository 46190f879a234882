"""istiod's monitoring port 15014: /metrics, /version, /ready and /debug/{syncz,config_dump}.

As istio/istio pilot/pkg/bootstrap/monitoring.go (metrics, version) and
pilot/pkg/xds/debug.go (syncz, config_dump?proxyID=) serve them; /ready is istiod's
readiness probe (on 8080 in a real istiod, answered here too so one forward reaches all).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from meshtui.demo.bootstrap import ISTIO_VERSION
from meshtui.demo.xds.model import TYPE_CLUSTER, TYPE_ENDPOINT, TYPE_LISTENER, TYPE_ROUTE
from meshtui.demo.xds.server import DiscoveryServer

# istio.io/pkg/version BuildInfo.String(): version-revision-status-tag-goversion
VERSION_STRING = f"{ISTIO_VERSION}-meshtuidemo-Clean-{ISTIO_VERSION}-go1.20.10"
ADMIN = "type.googleapis.com/envoy.admin.v3."


def _ts(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def config_dump(server: DiscoveryServer, proxy_id: str) -> dict[str, Any] | None:
    """What istiod last sent the proxy, in Envoy's admin ConfigDump shape (as istioctl compares)."""
    con = server.connection(proxy_id)
    if con is None:
        return None
    w = con.watched
    configs: list[dict[str, Any]] = []
    if TYPE_CLUSTER in w:
        c = w[TYPE_CLUSTER]
        configs.append(
            {
                "@type": ADMIN + "ClustersConfigDump",
                "version_info": c.version_sent,
                "dynamic_active_clusters": [
                    {"version_info": c.version_sent, "cluster": r, "last_updated": _ts(c.sent_at)}
                    for r in c.sent
                ],
            }
        )
    if TYPE_LISTENER in w:
        c = w[TYPE_LISTENER]
        configs.append(
            {
                "@type": ADMIN + "ListenersConfigDump",
                "version_info": c.version_sent,
                "dynamic_listeners": [
                    {
                        "name": r.get("name", ""),
                        "active_state": {
                            "version_info": c.version_sent,
                            "listener": r,
                            "last_updated": _ts(c.sent_at),
                        },
                    }
                    for r in c.sent
                ],
            }
        )
    if TYPE_ROUTE in w:
        c = w[TYPE_ROUTE]
        configs.append(
            {
                "@type": ADMIN + "RoutesConfigDump",
                "dynamic_route_configs": [
                    {"version_info": c.version_sent, "route_config": r, "last_updated": _ts(c.sent_at)}
                    for r in c.sent
                ],
            }
        )
    if TYPE_ENDPOINT in w:
        c = w[TYPE_ENDPOINT]
        configs.append(
            {
                "@type": ADMIN + "EndpointsConfigDump",
                "dynamic_endpoint_configs": [
                    {"version_info": c.version_sent, "endpoint_config": r, "last_updated": _ts(c.sent_at)}
                    for r in c.sent
                ],
            }
        )
    return {"configs": configs}


def monitoring_app(server: DiscoveryServer) -> web.Application:
    async def metrics(request: web.Request) -> web.Response:
        return web.Response(
            body=server.metrics.exposition(),
            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
        )

    async def version(request: web.Request) -> web.Response:
        return web.Response(text=VERSION_STRING)

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="")

    async def syncz(request: web.Request) -> web.Response:
        return web.Response(text=json.dumps(server.syncz(), indent=2), content_type="application/json")

    async def dump(request: web.Request) -> web.Response:
        proxy_id = request.query.get("proxyID", "")
        if not proxy_id:
            return web.Response(status=400, text="You must provide a proxyID in the query string")
        doc = config_dump(server, proxy_id)
        if doc is None:
            return web.Response(status=404, text=f"Proxy not connected to this Pilot instance: {proxy_id}")
        return web.Response(text=json.dumps(doc, indent=2), content_type="application/json")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/version", version)
    app.router.add_get("/ready", ready)
    app.router.add_get("/debug/syncz", syncz)
    app.router.add_get("/debug/config_dump", dump)
    return app
