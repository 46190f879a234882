"""A simulated Kubernetes API server for the demo and the tests.

It speaks the real protocol for what meshtui uses -- discovery, pod list, watch
(chunked JSON events with resourceVersion and timeoutSeconds), Table output for
kubectl, client-certificate and bearer-token auth with Status errors, verb-aware RBAC (demo/rbac.py),
and pod port-forward over websocket (`v4.channel.k8s.io`, negotiated as the
kubelet does: demo/podforward.py) -- so the official `kubernetes` client and
kubectl work against it unmodified. A port-forward to a pod port is carried to
the loopback port of the process playing that pod (a real Envoy's admin).

Endpoints under `/_sim/` steer it from tests: drop every forward, rollout-restart
a workload, switch auth to forbidden or expired, give the demo user a Role.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import secrets
import ssl
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from meshtui.demo import paging, podforward, podforward_spdy, podtable, rbac, selectors, steering, watchlog
from meshtui.demo.kinds.http import PATCH_TYPES, KindsApi
from meshtui.demo.simpod import SimPod


def _status(code: int, reason: str, message: str) -> web.Response:
    return web.json_response(watchlog.status_body(code, reason, message), status=code)


class SimApiServer:
    """The pods of a small mesh, served as the Kubernetes API on 127.0.0.1."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token or secrets.token_hex(16)
        self.tokens: dict[str, str] = {self.token: rbac.USER}  # bearer token -> user
        # (client port, method, path?query) of recent requests: tests see which way each came
        self.requests: collections.deque[tuple[int, str, str]] = collections.deque(maxlen=2000)
        # (path?query, user, groups) each request acted as, after impersonation
        self.acting: collections.deque[tuple[str, str, tuple[str, ...]]] = collections.deque(maxlen=2000)
        self.auth_mode = "ok"  # "ok" | "forbidden" | "expired"
        self.rbac = rbac.Rbac()  # the demo user's Role (everything, until a test narrows it)
        self.pager = paging.Pager()  # lists in chunks (limit/continue), as kubectl asks for
        self.pods: dict[tuple[str, str], SimPod] = {}
        self.on_pods_changed: list[Callable[[], None]] = []  # a pod added or deleted (the demo's Prometheus)
        self.services: dict[tuple[str, str], dict[str, Any]] = {}  # v1 Service JSON, read-only
        self.watchlog = watchlog.WatchLog()  # bounded, as the watch cache is: 410 beyond it
        self.rv = 1000
        self._changed = asyncio.Condition()
        self._forwards: set[podforward.ForwardStream] = set()  # open ones (forward_opened/closed)
        self.forward_count = 0
        self.watch_epoch = 0  # bumping it ends every open watch (as an API server restart does)
        self._closing: set[asyncio.Future[Any]] = set()
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.scheme = "http"
        self.kinds = KindsApi(self)
        # the demo's own load loop runs while this is set; `/_sim/load/pause` clears it, so a
        # test's own load is the only traffic a gateway counts (meshtui load's checks)
        self.demo_load_on = asyncio.Event()
        self.demo_load_on.set()

    # -- state -----------------------------------------------------------------------

    async def _record(self, kind: str, pod: SimPod) -> None:
        self.rv += 1
        pod.resource_version = self.rv
        self.watchlog.append(self.rv, kind, pod.to_json())
        await self.notify()

    # -- what the demo's other modules use (watches, other kinds, port-forwards, steering)

    async def notify(self) -> None:
        """Wake every open watch: something changed (or the watches must end)."""
        async with self._changed:
            self._changed.notify_all()

    async def wait_changed(self, timeout: float) -> None:
        """Until `notify`, or `timeout` seconds: how an open watch waits for news."""
        async with self._changed:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=timeout)

    def forward_opened(self, stream: podforward.ForwardStream) -> None:
        self.forward_count += 1
        self._forwards.add(stream)

    def forward_closed(self, stream: podforward.ForwardStream) -> None:
        self._forwards.discard(stream)

    def selected_pods(self, ns: str | None, test: selectors.Test | None = None) -> list[SimPod]:
        """The pods a list or a watch from scratch returns: in a namespace (or all), matching
        the request's selectors, in name order."""
        pods = [p for p in self.pods.values() if ns is None or p.namespace == ns]
        if test is not None:
            pods = [p for p in pods if test(p.to_json())]
        return sorted(pods, key=lambda p: (p.namespace, p.name))

    async def add_pod(self, pod: SimPod) -> None:
        self.pods[(pod.namespace, pod.name)] = pod
        await self._record("ADDED", pod)
        self._pods_changed()

    def _pods_changed(self) -> None:
        for callback in self.on_pods_changed:
            callback()

    async def mark_terminating(self, pod: SimPod) -> None:
        """deletionTimestamp set: the pod shows Terminating until `delete_pod`."""
        pod.deleting = True
        await self._record("MODIFIED", pod)

    async def pod_status_changed(self, pod: SimPod) -> None:
        """The kubelet reported a new status (a container died, restarted, became ready)."""
        if self.pods.get((pod.namespace, pod.name)) is pod:
            await self._record("MODIFIED", pod)

    async def delete_pod(self, namespace: str, name: str) -> None:
        pod = self.pods.pop((namespace, name), None)
        if pod is None:
            return
        self._pods_changed()
        pod.deleting = True
        await self._record("MODIFIED", pod)
        await self._record("DELETED", pod)
        self.drop_forwards(pod)

    async def rollout_restart(self, namespace: str, workload: str) -> SimPod | None:
        """Replace the workload's pod by a new one (new name, same backing process)."""
        old = next(
            (p for p in self.pods.values() if p.namespace == namespace and p.workload == workload),
            None,
        )
        if old is None:
            return None
        new = SimPod(
            name=f"{workload}-{secrets.token_hex(4)[:9]}-{secrets.token_hex(3)[:5]}",
            namespace=namespace,
            workload=workload,
            ip=old.ip.rsplit(".", 1)[0] + f".{(int(old.ip.rsplit('.', 1)[1]) + 10) % 250}",
            containers=old.containers,
            forwards=dict(old.forwards),
            labels=dict(old.labels),
            # the same dict, not a copy: the backing app reads it (a fault annotation on the
            # new pod reaches it, as it would reach a new pod's app)
            annotations=old.annotations,
        )
        await self.add_pod(new)
        await self.delete_pod(namespace, old.name)
        return new

    def drop_forwards(self, pod: SimPod | None = None) -> int:
        """Cut live port-forward streams (all, or one pod's): what a kubelet restart does.
        The connection is cut without a close frame, as the API server's upgrade proxy
        does when its kubelet side dies: the client sees an abnormal closure (1006), not
        the normal close that ends a stream whose pod side hung up (demo/podforward.py)."""
        dropped = 0
        for stream in list(self._forwards):
            if pod is not None and stream.pod != (pod.namespace, pod.name):
                continue
            transport = stream.request.transport
            if transport is not None:
                transport.abort()
            else:
                task = asyncio.ensure_future(stream.ws.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
            stream.writer.close()
            self._forwards.discard(stream)
            dropped += 1
        return dropped

    # -- http ------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        r = app.router
        r.add_get("/version", self._version)
        r.add_get("/api", self._api_versions)
        self.kinds.install(app)  # /apis: Istio config and Deployments
        r.add_get("/api/v1", self._api_resources)
        r.add_get("/api/v1/pods", self._pods)
        r.add_get("/api/v1/namespaces/{ns}/pods", self._pods)
        r.add_get("/api/v1/namespaces/{ns}/pods/{name}", self._pod)
        r.add_patch("/api/v1/namespaces/{ns}/pods/{name}", self._patch_pod)
        r.add_get("/api/v1/namespaces/{ns}/services/{name}", self._service)
        r.add_get("/api/v1/namespaces/{ns}/pods/{name}/portforward", self._portforward)
        r.add_post("/api/v1/namespaces/{ns}/pods/{name}/portforward", self._portforward)
        steering.install(r, self)
        return app

    async def start(self, port: int = 0, ssl_context: ssl.SSLContext | None = None) -> str:
        self.runner = web.AppRunner(self.app(), access_log=None, handler_cancellation=True)
        await self.runner.setup()
        self.scheme = "https" if ssl_context else "http"
        site = web.TCPSite(self.runner, "127.0.0.1", port, shutdown_timeout=0.5, ssl_context=ssl_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.url

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self.drop_forwards()
        if self.runner:
            await self.runner.cleanup()

    def authenticate(self, request: web.Request) -> str | None:
        """The user of a request, as the API server's union authenticator finds it: a
        verified client certificate first (x509: CN is the user), then a bearer token."""
        from meshtui.demo.tls import peer_user

        ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
        peercert = ssl_object.getpeercert() if ssl_object is not None else None
        cert_user = peer_user(peercert)
        if cert_user and peercert:
            # the x509 authenticator verifies the chain on every request, not only at the
            # handshake: a certificate that expired on a kept-alive connection is a 401
            if ssl.cert_time_to_seconds(str(peercert["notAfter"])) < time.time():
                return None
            return cert_user[0]
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        return self.tokens.get(token) if token else None

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.requests.append((peer[1] if peer else 0, request.method, request.path_qs))
        user = self.authenticate(request)
        if user is None:
            return _status(401, "Unauthorized", "Unauthorized")
        if request.path.startswith("/_sim/"):
            return await handler(request)
        user, groups, refused = self.rbac.impersonate(user, request.headers)
        if refused:
            return _status(403, "Forbidden", refused)
        self.acting.append((request.path_qs, user, groups))
        if self.auth_mode == "expired":
            return _status(401, "Unauthorized", "Unauthorized")
        depth = len(request.path.strip("/").split("/"))  # api/v1/RES..., apis/G/V/RES...
        if (request.path.startswith("/api/v1/") and depth >= 3) or (
            request.path.startswith("/apis/") and depth >= 4
        ):
            denial = self._authorize(request, user)
        elif request.path.startswith(("/api", "/openapi")) and self.auth_mode == "forbidden":
            # discovery is a non-resource URL, allowed by system:discovery to anyone signed
            # in; "forbidden" stands for a user with no binding left at all (/version stays
            # open: system:public-info-viewer)
            denial = f'forbidden: User "{user}" cannot get path "{request.path}"'
        else:
            denial = None
        if denial:
            return _status(403, "Forbidden", denial)
        return await handler(request)

    def _authorize(self, request: web.Request, user: str) -> str | None:
        """RBAC for a resource request, core (/api/v1/...) or of a group (/apis/G/V/...)
        (demo/rbac.py); "forbidden" mode denies every one."""
        parts = request.path.split("/")  # /api/v1/namespaces/NS/pods/NAME/SUB, /apis/G/V/...
        group = parts[2] if parts[1] == "apis" else ""
        parts = parts[1:] if group else parts  # the same positions as /api/v1/...
        # from the path, as requestinfo.go parses it: also for a path no handler serves
        ns = parts[4] if len(parts) > 5 and parts[3] == "namespaces" else None
        rest = parts[5:] if ns else parts[3:]
        resource = "/".join([rest[0], *rest[2:3]]) if rest else ""
        name = rest[1] if len(rest) > 1 else ""
        watch = request.query.get("watch") in ("true", "1")
        if self.auth_mode == "forbidden":
            verb = rbac.request_verb(request.method, name, watch)
            return rbac.forbidden_message(verb, resource, name, ns, user, group)
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        return self.rbac.check(request.method, resource, name, ns, watch, upgrade, user, group)

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                # what kind's default node image (v1.32) answers; kubectl 1.32 and the
                # kubernetes client are within the supported skew of it
                "major": "1",
                "minor": "32",
                "gitVersion": "v1.32.2",
                "platform": "linux/amd64",
                "goVersion": "go1.23.6",
                "compiler": "gc",
                "buildDate": "2025-02-12T21:19:07Z",
                "gitCommit": "sim",
                "gitTreeState": "clean",
            }
        )

    async def _api_versions(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}
                ],
            }
        )

    async def _api_resources(self, request: web.Request) -> web.Response:
        verbs = ["get", "list", "watch"]
        return web.json_response(
            {
                "kind": "APIResourceList",
                "groupVersion": "v1",
                "resources": [
                    {
                        "name": "pods",
                        "singularName": "pod",
                        "namespaced": True,
                        "kind": "Pod",
                        "verbs": verbs,
                        "shortNames": ["po"],
                        "categories": ["all"],
                    },
                    {
                        "name": "pods/portforward",
                        "singularName": "",
                        "namespaced": True,
                        "kind": "PodPortForwardOptions",
                        "verbs": ["create", "get"],
                    },
                    {
                        "name": "services",
                        "singularName": "service",
                        "namespaced": True,
                        "kind": "Service",
                        "verbs": ["get"],  # one named Service: what resolving svc/NAME needs
                        "shortNames": ["svc"],
                        "categories": ["all"],
                    },
                ],
            }
        )

    async def _pods(self, request: web.Request) -> web.StreamResponse:
        ns = request.match_info.get("ns")
        try:
            test = selectors.pods(request.query.get("labelSelector"), request.query.get("fieldSelector"))
        except selectors.SelectorError as exc:
            return _status(400, "BadRequest", str(exc))
        if request.query.get("watch") in ("true", "1"):
            return await watchlog.serve(self, request, ns, test)
        pods = self.selected_pods(ns, test)
        try:
            items, meta = self.pager.page(
                [p.to_json() for p in pods],
                self.rv,
                request.query.get("limit"),
                request.query.get("continue"),
            )
        except paging.Expired as exc:
            return _status(410, "Expired", str(exc))
        except ValueError:
            return _status(400, "BadRequest", "invalid limit or continue")
        if "as=Table" in request.headers.get("Accept", ""):
            table = podtable.pod_table(items, int(meta["resourceVersion"]))
            table["metadata"] = {**table.get("metadata", {}), **meta}
            return web.json_response(table)
        return web.json_response({"kind": "PodList", "apiVersion": "v1", "metadata": meta, "items": items})

    async def _pod(self, request: web.Request) -> web.Response:
        pod = self.pods.get((request.match_info["ns"], request.match_info["name"]))
        if pod is None:
            return _status(404, "NotFound", f'pods "{request.match_info["name"]}" not found')
        if "as=Table" in request.headers.get("Accept", ""):
            return web.json_response(podtable.pod_table([pod.to_json()], self.rv))
        return web.json_response(pod.to_json())

    async def _patch_pod(self, request: web.Request) -> web.Response:
        """`kubectl annotate|label pod`: a merge patch of the pod's annotations and labels
        (null removes a key), recorded as MODIFIED for the watches. The rest of a pod is the
        kubelet's and the controller's here, so other fields are refused."""
        pod = self.pods.get((request.match_info["ns"], request.match_info["name"]))
        if pod is None:
            return _status(404, "NotFound", f'pods "{request.match_info["name"]}" not found')
        if not request.content_type.startswith(PATCH_TYPES):
            return _status(415, "UnsupportedMediaType", f"patch type {request.content_type} is not supported")
        try:
            body = await request.json()
        except ValueError:
            return _status(400, "BadRequest", "the request body is not valid JSON")
        meta = body.get("metadata") if isinstance(body, dict) else None
        if not isinstance(meta, dict) or set(body) - {"metadata"} or set(meta) - {"annotations", "labels"}:
            return _status(
                422, "Invalid", "the demo patches a pod's metadata.annotations and metadata.labels only"
            )
        for field, current in (("annotations", pod.annotations), ("labels", pod.labels)):
            for key, value in (meta.get(field) or {}).items():
                if value is None:
                    current.pop(key, None)
                else:
                    current[key] = str(value)  # in place: the pod's app holds the same dict
        await self._record("MODIFIED", pod)
        return web.json_response(pod.to_json())

    async def _service(self, request: web.Request) -> web.Response:
        svc = self.services.get((request.match_info["ns"], request.match_info["name"]))
        if svc is None:
            return _status(404, "NotFound", f'services "{request.match_info["name"]}" not found')
        return web.json_response(svc)

    async def _portforward(self, request: web.Request) -> web.StreamResponse:
        ns, name = request.match_info["ns"], request.match_info["name"]
        pod = self.pods.get((ns, name))
        if pod is None:
            return _status(404, "NotFound", f'pods "{name}" not found')
        if podforward_spdy.offered(request.headers.get("Sec-WebSocket-Protocol", "")):
            return await podforward_spdy.serve(self, request, pod)  # kubectl: ports in the streams
        ports, problem = podforward.v4_ports(request.query.getall("ports", []))
        if problem:
            return web.Response(status=400, text=problem + "\n")  # the kubelet's http.Error
        return await podforward.serve(self, request, pod, ports)

    async def rotate_token(self, token: str, user: str, revoke: tuple[str, ...] = ()) -> None:
        """Accept `token` as `user` and stop accepting `revoke` (never the demo's own token):
        what a credential rotation does. Open watches go on (a request is authenticated
        once, when it starts): the next request meets the change."""
        for old in revoke:
            if old != self.token:
                self.tokens.pop(old, None)
        self.tokens[token] = user

    async def end_watches(self) -> None:
        """Every open watch ends, as at its timeoutSeconds or an API server restart."""
        self.watch_epoch += 1
        await self.notify()
