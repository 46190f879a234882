"""The first pod list is read in pages (limit 500, then `continue`) as client-go's reflector
and kubectl read it, so a big cluster's list is many short answers rather than one long
one; the watch starts from the list's resourceVersion; an expired continue token means
one full list, as client-go's pager does."""

from __future__ import annotations

import shutil
import subprocess
import urllib.parse

import pytest

from helpers.kube_cluster import NS, POD, tls_cluster
from meshtui.demo.simpod import Container, SimPod
from meshtui.kube import config
from meshtui.kube.pods import PodWatch
from meshtui.kube.watch import PAGE

MANY = 1200


@pytest.fixture()
def crowded(tmp_path, mesh):
    with tls_cluster(tmp_path, mesh) as cluster:

        async def add_many() -> None:
            for i in range(MANY):
                ip = f"10.245.{i // 250}.{i % 250 + 1}"
                await cluster.api.add_pod(SimPod(f"batch-{i:05d}", NS, "batch", ip, [Container("app", "b")]))

        cluster.run(add_many())
        yield cluster


def list_queries(cluster) -> list[dict[str, list[str]]]:
    return [
        urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        for _port, method, path in cluster.api.requests
        if method == "GET" and path.startswith(f"/api/v1/namespaces/{NS}/pods") and "watch=" not in path
    ]


async def first_sync(cluster) -> tuple[int, PodWatch]:
    watch = PodWatch(config.load(cluster.kubeconfig()), NS)
    events = watch.events()
    try:
        first = await anext(events)
        assert first.kind == "SYNC"
        return len(first.pods), watch
    finally:
        await events.aclose()


async def test_the_first_list_comes_in_pages_and_the_watch_starts_where_it_ended(crowded):
    crowded.api.requests.clear()
    count, watch = await first_sync(crowded)
    assert count == MANY + 1
    queries = list_queries(crowded)
    assert len(queries) == -(-(MANY + 1) // PAGE)  # 3 pages of at most 500
    assert all(q["limit"] == [str(PAGE)] for q in queries)
    assert "continue" not in queries[0] and all("continue" in q for q in queries[1:])
    assert watch.resource_version == str(crowded.api.rv)


async def test_an_expired_continue_token_means_one_full_list(crowded):
    crowded.api.pager.keep = 0  # every token is gone by the time it comes back: 410 Expired
    crowded.api.requests.clear()
    count, _ = await first_sync(crowded)
    assert count == MANY + 1
    queries = list_queries(crowded)
    assert [("limit" in q, "continue" in q) for q in queries] == [(True, False), (True, True), (False, False)]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is the oracle")
def test_kubectl_pages_the_same_list_to_the_same_pods(crowded):
    crowded.api.requests.clear()
    r = subprocess.run(
        ["kubectl", "--kubeconfig", crowded.kubeconfig(), "get", "pods", "-n", NS, "-o", "name"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    names = [line.removeprefix("pod/") for line in r.stdout.split()]
    assert len(names) == MANY + 1 and POD in names
    queries = list_queries(crowded)
    assert len(queries) == 3 and all(q["limit"] == ["500"] for q in queries)
