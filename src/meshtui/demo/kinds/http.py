"""The API paths for the demo's extra kinds: discovery, list, watch, get, create, patch, delete.

Paths and bodies follow the Kubernetes API conventions kubectl relies on
(k8s.io/apiserver endpoints/handlers): `/apis` APIGroupList, `/apis/G/V` APIResourceList,
collection and item paths, `as=Table` for kubectl's printing, `?watch=true` chunked
events, Status objects for errors.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from meshtui.demo.kinds import openapi
from meshtui.demo.kinds.store import ApiError, Resource
from meshtui.demo.watchlog import status_body

if TYPE_CHECKING:
    from meshtui.demo.apiserver import SimApiServer

PATCH_TYPES = (
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


def _error(err: ApiError) -> web.Response:
    return web.json_response(err.status(), status=err.code)


class KindsApi:
    def __init__(self, server: SimApiServer) -> None:
        self.server = server
        self.resources: list[Resource] = []

    def add(self, resource: Resource) -> Resource:
        self.resources.append(resource)
        return resource

    def find(self, group: str, version: str, plural: str) -> Resource:
        for r in self.resources:
            if r.group == group and version in r.versions and plural == r.plural:
                return r
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    async def record(self, resource: Resource, kind: str, obj: dict[str, Any]) -> None:
        resource.watchlog.append(int(obj["metadata"]["resourceVersion"]), kind, obj)
        await self.server.notify()
        if resource.on_change is not None:
            await resource.on_change(kind, obj)

    def next_rv(self) -> int:
        self.server.rv += 1
        return self.server.rv

    # -- writes (also used by the demo itself, e.g. a Deployment's status) --------------------

    async def create(self, resource: Resource, ns: str, body: dict[str, Any]) -> dict[str, Any]:
        obj = resource.prepare_create(ns, body, self.server.rv + 1)
        self.next_rv()
        resource.objects[(ns, obj["metadata"]["name"])] = obj
        await self.record(resource, "ADDED", obj)
        return obj

    async def patch(self, resource: Resource, ns: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        obj = resource.prepare_patch(ns, name, patch, self.server.rv + 1)
        self.next_rv()
        resource.objects[(ns, name)] = obj
        await self.record(resource, "MODIFIED", obj)
        return obj

    async def delete(self, resource: Resource, ns: str, name: str) -> dict[str, Any]:
        obj = resource.objects.pop((ns, name), None)
        if obj is None:
            raise resource.not_found(name)
        obj = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self.next_rv())}}
        await self.record(resource, "DELETED", obj)
        return obj

    # -- http ---------------------------------------------------------------------------------

    def install(self, app: web.Application) -> None:
        openapi.install(app, self)
        r = app.router
        r.add_get("/apis", self._groups)
        r.add_get("/apis/{group}", self._group)
        r.add_get("/apis/{group}/{version}", self._discovery)
        r.add_get("/apis/{group}/{version}/{plural}", self._collection)
        base = "/apis/{group}/{version}/namespaces/{ns}/{plural}"
        r.add_get(base, self._collection)
        r.add_post(base, self._collection)
        r.add_route("*", base + "/{name}", self._item)
        r.add_route("*", base + "/{name}/{sub}", self._item)

    def _group_json(self, group: str) -> dict[str, Any]:
        versions: list[str] = []
        for res in self.resources:
            if res.group == group:
                versions += [v for v in res.versions if v not in versions]
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": gvs,
            "preferredVersion": gvs[0],
        }

    async def _groups(self, request: web.Request) -> web.Response:
        groups = list(dict.fromkeys(r.group for r in self.resources if r.group))
        return web.json_response(
            {"kind": "APIGroupList", "apiVersion": "v1", "groups": [self._group_json(g) for g in groups]}
        )

    async def _group(self, request: web.Request) -> web.Response:
        group = request.match_info["group"]
        if not any(r.group == group for r in self.resources):
            return _error(ApiError(404, "NotFound", "the server could not find the requested resource"))
        return web.json_response(self._group_json(group))

    async def _discovery(self, request: web.Request) -> web.Response:
        group, version = request.match_info["group"], request.match_info["version"]
        found = [r for r in self.resources if r.group == group and version in r.versions]
        if not found:
            return _error(ApiError(404, "NotFound", "the server could not find the requested resource"))
        verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
        resources: list[dict[str, Any]] = []
        for r in found:
            resources.append(
                {
                    "name": r.plural,
                    "singularName": r.kind.lower(),
                    "namespaced": True,
                    "kind": r.kind,
                    "verbs": verbs,
                    "shortNames": r.short_names,
                    "categories": ["istio-io", "networking-istio-io"] if "istio" in r.group else ["all"],
                }
            )
            if r.plural == "deployments":
                resources.append(
                    {
                        "name": "deployments/scale",
                        "singularName": "",
                        "namespaced": True,
                        "group": "autoscaling",
                        "version": "v1",
                        "kind": "Scale",
                        "verbs": ["get", "patch", "update"],
                    }
                )
        return web.json_response(
            {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": f"{group}/{version}",
                "resources": resources,
            }
        )

    async def _collection(self, request: web.Request) -> web.StreamResponse:
        m = request.match_info
        try:
            res = self.find(m["group"], m["version"], m["plural"])
            ns = m.get("ns")
            if request.method == "POST":
                if ns is None:
                    raise ApiError(405, "MethodNotAllowed", "create needs a namespace")
                body = await request.json()
                obj = await self.create(res, ns, body)
                return web.json_response(res.view(obj, m["version"]), status=201)
            if request.query.get("watch") in ("true", "1"):
                return await self._watch(request, res, ns)
            objs = res.items(ns)
            if "as=Table" in request.headers.get("Accept", ""):
                return web.json_response(res.table(objs, self.server.rv))
            return web.json_response(
                {
                    "kind": f"{res.kind}List",
                    "apiVersion": res.api_version(m["version"]),
                    "metadata": {"resourceVersion": str(self.server.rv)},
                    "items": [res.view(o, m["version"]) for o in objs],
                }
            )
        except ApiError as err:
            return _error(err)
        except ValueError:
            return _error(ApiError(400, "BadRequest", "the request body is not valid JSON"))

    async def _item(self, request: web.Request) -> web.StreamResponse:
        m = request.match_info
        version = m["version"]
        try:
            res = self.find(m["group"], version, m["plural"])
            ns, name, sub = m["ns"], m["name"], m.get("sub")
            if sub is not None:
                return await self._subresource(request, res, ns, name, sub)
            if request.method == "GET":
                obj = res.get(ns, name)
                if "as=Table" in request.headers.get("Accept", ""):
                    return web.json_response(res.table([obj], self.server.rv))
                return web.json_response(res.view(obj, version))
            if request.method == "DELETE":
                obj = await self.delete(res, ns, name)
                return web.json_response(res.view(obj, version))
            if request.method in ("PATCH", "PUT"):
                body = await request.json()
                if request.method == "PATCH" and not request.content_type.startswith(PATCH_TYPES):
                    raise ApiError(
                        415, "UnsupportedMediaType", f"patch type {request.content_type} is not supported"
                    )
                if request.method == "PUT":
                    body = {**body, "metadata": {**body.get("metadata", {})}}
                obj = await self.patch(res, ns, name, body)
                return web.json_response(res.view(obj, version))
            raise ApiError(405, "MethodNotAllowed", f"{request.method} is not supported")
        except ApiError as err:
            return _error(err)
        except ValueError:
            return _error(ApiError(400, "BadRequest", "the request body is not valid JSON"))

    async def _subresource(
        self, request: web.Request, res: Resource, ns: str, name: str, sub: str
    ) -> web.Response:
        if res.plural != "deployments" or sub != "scale":
            raise ApiError(404, "NotFound", "the server could not find the requested resource")

        def scale(obj: dict[str, Any]) -> dict[str, Any]:
            meta = obj["metadata"]
            return {
                "kind": "Scale",
                "apiVersion": "autoscaling/v1",
                "metadata": {
                    k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                },
                "spec": {"replicas": obj["spec"].get("replicas", 1)},
                "status": {
                    "replicas": obj.get("status", {}).get("replicas", 0),
                    "selector": ",".join(
                        f"{k}={v}" for k, v in obj["spec"]["selector"]["matchLabels"].items()
                    ),
                },
            }

        if request.method == "GET":
            return web.json_response(scale(res.get(ns, name)))
        if request.method in ("PATCH", "PUT"):
            body = await request.json()
            replicas = (body.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise ApiError(
                    422, "Invalid", f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value'
                )
            obj = await self.patch(res, ns, name, {"spec": {"replicas": replicas}})
            return web.json_response(scale(obj))
        raise ApiError(405, "MethodNotAllowed", f"{request.method} is not supported")

    async def _watch(self, request: web.Request, res: Resource, ns: str | None) -> web.StreamResponse:
        since = int(request.query.get("resourceVersion") or 0)
        deadline = time.monotonic() + float(request.query.get("timeoutSeconds") or 1800)
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        version = request.match_info["version"]
        as_table = "as=Table" in request.headers.get("Accept", "")

        def shown(o: dict[str, Any]) -> dict[str, Any]:
            # kubectl get -w asks for Table events: one row per event, as the API server sends
            return res.table([o], self.server.rv) if as_table else res.view(o, version)

        log = res.watchlog
        if since and since < log.floor:  # as the pods' watch (demo/watchlog.py): 410 in the stream
            gone = status_body(410, "Expired", f"too old resource version: {since} ({log.floor})")
            await resp.write(json.dumps({"type": "ERROR", "object": gone}).encode() + b"\n")
            return resp
        if not since:
            for o in res.items(ns):
                await resp.write(json.dumps({"type": "ADDED", "object": shown(o)}).encode() + b"\n")
            since = self.server.rv
        epoch = self.server.watch_epoch
        while epoch == self.server.watch_epoch:
            now = self.server.rv  # events recorded while this one writes go on the next turn
            for _rv, kind, obj, _previous in log.after(since):
                if ns is None or obj["metadata"]["namespace"] == ns:
                    await resp.write(json.dumps({"type": kind, "object": shown(obj)}).encode() + b"\n")
            since = max(since, now)
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if self.server.rv == since:
                await self.server.wait_changed(min(left, 30))
        return resp
