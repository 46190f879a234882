"""The /openapi/v3 documents kubectl reads before `apply`.

kubectl (k8s.io/cli-runtime resource/query_param_verifier_v3.go) asks the group-version's
OpenAPI v3 document whether the kind's PATCH operation takes the `fieldValidation` query
parameter; if it does, validation is left to the server (here: the admission checks), as
on any API server since 1.27. The documents carry just that: a PATCH per kind with its
`x-kubernetes-group-version-kind` and the parameter, and no schemas.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from meshtui.demo.kinds.http import KindsApi


def _gvs(api: KindsApi) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for res in api.resources:
        for v in res.versions:
            out.setdefault(f"apis/{res.group}/{v}", []).append((res, v))
    return out


def install(app: web.Application, api: KindsApi) -> None:
    async def root(request: web.Request) -> web.Response:
        paths = {}
        for gv in _gvs(api):
            digest = hashlib.sha256(gv.encode()).hexdigest()[:16].upper()
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={digest}"}
        return web.json_response({"paths": paths})

    async def document(request: web.Request) -> web.Response:
        gv = f"apis/{request.match_info['group']}/{request.match_info['version']}"
        found = _gvs(api).get(gv)
        if not found:
            return web.json_response({"message": "not found"}, status=404)
        paths: dict[str, Any] = {}
        for res, v in found:
            gvk = {"group": res.group, "version": v, "kind": res.kind}
            item = f"/{gv}/namespaces/{{namespace}}/{res.plural}/{{name}}"
            paths[item] = {
                "patch": {
                    "operationId": f"patch{res.kind}",
                    "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": gvk,
                    "parameters": [
                        {
                            "name": "fieldValidation",
                            "in": "query",
                            "schema": {"type": "string", "uniqueItems": True},
                        },
                        {
                            "name": "fieldManager",
                            "in": "query",
                            "schema": {"type": "string", "uniqueItems": True},
                        },
                    ],
                    "responses": {"200": {"description": "OK"}},
                }
            }
        return web.json_response(
            {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.2"}, "paths": paths}
        )

    app.router.add_get("/openapi/v3", root)
    app.router.add_get("/openapi/v3/apis/{group}/{version}", document)
