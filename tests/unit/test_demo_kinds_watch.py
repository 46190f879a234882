"""The demo API server's other kinds (Istio config, Deployments) are watched from a bounded
cache, as its pods are (demo/watchlog.py): a watch from a version older than the cache gets
410 Expired in the stream; a current one gets each change once. In-process, on loopback."""

from __future__ import annotations

import json

import httpx

from meshtui.demo.apiserver import SimApiServer
from meshtui.demo.kinds.store import Resource

GROUP, VERSION, PLURAL = "networking.istio.io", "v1beta1", "virtualservices"


def vs(name: str) -> dict[str, object]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualService", "metadata": {"name": name}}


async def test_a_watch_from_before_the_cache_is_expired_and_a_current_one_sees_each_change():
    api = SimApiServer()
    res = api.kinds.add(Resource(GROUP, [VERSION], PLURAL, "VirtualService"))
    res.watchlog.capacity = 3
    url = await api.start()
    base = f"{url}/apis/{GROUP}/{VERSION}/namespaces/default/{PLURAL}"
    headers = {"Authorization": f"Bearer {api.token}"}
    try:
        async with httpx.AsyncClient(headers=headers, timeout=10) as http:
            versions = []
            for i in range(5):  # two more than the cache keeps
                r = await http.post(base, json=vs(f"vs-{i}"))
                assert r.status_code == 201, r.text
                versions.append(int(r.json()["metadata"]["resourceVersion"]))
            assert len(res.watchlog.events) == 3

            old = await http.get(base, params={"watch": "true", "resourceVersion": str(versions[0])})
            (line,) = old.text.splitlines()
            event = json.loads(line)
            assert event["type"] == "ERROR" and event["object"]["code"] == 410
            assert event["object"]["reason"] == "Expired"

            # from the third change on (in the cache): the two after it, once each, then the timeout
            params = {"watch": "true", "resourceVersion": str(versions[2]), "timeoutSeconds": "1"}
            recent = await http.get(base, params=params)
            seen = [
                (e["type"], e["object"]["metadata"]["name"])
                for e in map(json.loads, recent.text.splitlines())
            ]
            assert seen == [("ADDED", "vs-3"), ("ADDED", "vs-4")]
    finally:
        await api.stop()
