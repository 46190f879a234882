"""proxy-url and HTTPS_PROXY / NO_PROXY: the pods list, the watch and every port-forward
websocket go the same way -- through the proxy, or all direct."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys

import httpx
import pytest

from helpers.connect_proxy import connect_proxy
from helpers.kube_cluster import NS, POD, tls_cluster
from meshtui.demo.simpod import Container, SimPod
from meshtui.kube import config
from meshtui.kube.pods import PodWatch
from meshtui.kube.portforward import ForwardManager

HOST = "kubernetes.meshtui.test"  # a name only these tests resolve (to 127.0.0.1)
PROXY_ENV = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture()
def no_proxy_env(monkeypatch):
    for name in (*PROXY_ENV, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture()
def cluster(tmp_path, mesh, no_proxy_env):
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):  # never ask a resolver beyond this machine for it
        return real("127.0.0.1" if host == HOST else host, *args, **kwargs)

    no_proxy_env.setattr(socket, "getaddrinfo", resolve)
    with tls_cluster(tmp_path, mesh, names=(HOST, "127.0.0.1")) as c:
        yield c


@pytest.fixture()
def proxy():
    with connect_proxy() as p:
        yield p


async def exercise(cluster, target) -> dict[str, set[int]]:
    """List, watch and forward once; the client ports each kind of request came from."""
    cluster.api.requests.clear()
    assert [p.metadata.name for p in target.core().list_namespaced_pod(NS, _request_timeout=5).items] == [POD]
    events = PodWatch(target, NS).events()
    try:
        assert (await anext(events)).kind == "SYNC"
        pod = SimPod(f"webapp-{len(cluster.api.pods)}", NS, "webapp", "10.244.0.10", [Container("app", "w")])
        cluster.run(cluster.api.add_pod(pod))
        assert (await anext(events)).kind == "ADDED"
    finally:
        await events.aclose()
    manager = ForwardManager(target)
    try:
        fwd = await manager.acquire(NS, POD, 15000)
        async with httpx.AsyncClient(trust_env=False) as c:
            assert (await c.get(fwd.url + "/ready")).text.strip() == "LIVE"
    finally:
        await manager.close()
    ports: dict[str, set[int]] = {"list": set(), "watch": set(), "forward": set()}
    for port, _method, path in list(cluster.api.requests):
        kind = "forward" if "/portforward" in path else "watch" if "watch=" in path else "list"
        ports[kind].add(port)
    assert all(ports.values()), ports
    return ports


async def test_proxy_url_carries_list_watch_and_forward(cluster, proxy):
    target = config.load(cluster.kubeconfig(cluster={"proxy-url": proxy.url}))
    assert target.proxy_url() == proxy.url
    ports = await exercise(cluster, target)
    for kind, used in ports.items():
        assert used <= proxy.upstream_ports(), f"{kind} went around the proxy"
    assert {t.authority for t in proxy.tunnels} == {f"127.0.0.1:{cluster.api.port}"}


async def test_https_proxy_from_the_environment(cluster, proxy, no_proxy_env):
    no_proxy_env.setenv("HTTPS_PROXY", proxy.url)
    target = config.load(cluster.kubeconfig(host=HOST))
    ports = await exercise(cluster, target)
    for kind, used in ports.items():
        assert used <= proxy.upstream_ports(), f"{kind} went around the proxy"
    assert {t.authority for t in proxy.tunnels} == {f"{HOST}:{cluster.api.port}"}


@pytest.mark.parametrize("no_proxy", [".meshtui.test", "kubernetes.meshtui.test", "*"])
async def test_no_proxy_sends_everything_direct(cluster, proxy, no_proxy_env, no_proxy):
    no_proxy_env.setenv("HTTPS_PROXY", proxy.url)
    no_proxy_env.setenv("NO_PROXY", no_proxy)
    target = config.load(cluster.kubeconfig(host=HOST))
    assert target.proxy_url() is None
    await exercise(cluster, target)
    assert proxy.tunnels == []


async def test_a_loopback_server_is_not_proxied_from_the_environment(cluster, proxy, no_proxy_env):
    """As Go's ProxyFromEnvironment: localhost and loopback addresses go direct, so a kind
    cluster on 127.0.0.1 works under a corporate HTTPS_PROXY as it does with kubectl."""
    no_proxy_env.setenv("HTTPS_PROXY", proxy.url)
    target = config.load(cluster.kubeconfig())
    assert target.proxy_url() is None
    await exercise(cluster, target)
    assert proxy.tunnels == []


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed here")
def test_kubectl_takes_the_same_way(cluster, proxy):
    kc = cluster.kubeconfig(cluster={"proxy-url": proxy.url})
    r = subprocess.run(
        ["kubectl", "--kubeconfig", kc, "get", "pods", "-n", NS, "-o", "name"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    assert proxy.tunnels and {t.authority for t in proxy.tunnels} == {f"127.0.0.1:{cluster.api.port}"}


@pytest.mark.parametrize("where", ["proxy-url", "HTTPS_PROXY"])
def test_a_socks_proxy_is_refused_in_one_line(cluster, no_proxy_env, where):
    """client-go speaks socks5 too; meshtui's two HTTP stacks do not: it says so and how to
    get there (headless: exit 2, one line) instead of a connection reset later."""
    socks = "socks5://127.0.0.1:1080"
    if where == "HTTPS_PROXY":
        no_proxy_env.setenv("HTTPS_PROXY", socks)
        kc = cluster.kubeconfig(host=HOST)
    else:
        kc = cluster.kubeconfig(cluster={"proxy-url": socks})
    with pytest.raises(config.KubeError, match=r"socks5:// is not supported .* --ssh HOST") as err:
        config.load(kc)
    assert "\n" not in str(err.value)
    r = subprocess.run(
        [sys.executable, "-m", "meshtui", "stats", POD, "-n", NS, "--kubeconfig", kc],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "socks5:// is not supported" in r.stderr
