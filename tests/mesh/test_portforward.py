"""The port-forward manager against the simulated API server and real Envoys."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from helpers.mesh import pod_name, sim
from helpers.wait import until
from meshtui.kube import config
from meshtui.kube.forward_reasons import kubelet_error
from meshtui.kube.portforward import ForwardManager, ForwardState


@pytest.fixture()
async def manager(mesh):
    m = ForwardManager(config.load(mesh.kubeconfig))
    yield m
    await m.close()


async def test_one_shared_forward_bound_to_loopback(manager, mesh):
    pod = pod_name(mesh, "catalog")
    a = await manager.acquire("istioinaction", pod, 15000)
    b = await manager.acquire("istioinaction", pod, 15000)
    assert a is b and a.users == 2
    assert a._server.sockets[0].getsockname()[0] == "127.0.0.1"
    async with httpx.AsyncClient() as c:
        r = await c.get(a.url + "/ready")
    assert r.text.strip() == "LIVE"
    assert a.status.state == ForwardState.UP
    await manager.release(a)
    assert manager.statuses()  # still used by b
    await manager.release(b)
    assert manager.statuses() == []
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as c:
            await c.get(a.url + "/ready")


async def test_forward_heals_after_the_stream_is_cut(mesh):
    seen = []
    manager = ForwardManager(config.load(mesh.kubeconfig), on_change=lambda st: seen.append(st.state))
    try:
        fwd = await manager.acquire("istioinaction", pod_name(mesh, "webapp"), 15000)
        async with httpx.AsyncClient() as c:
            assert (await c.get(fwd.url + "/ready")).status_code == 200
            assert sim(mesh, "/_sim/drop-forwards")["dropped"] >= 1
            await until(lambda: ForwardState.RECONNECTING in seen, 5, "reconnecting state")
            # the health probe re-opens a stream by itself, before any new request
            await until(lambda: fwd.status.state == ForwardState.UP and fwd.status.streams >= 2, 5, "healed")
            r = await c.get(fwd.url + "/ready")
            assert r.status_code == 200
    finally:
        await manager.close()


async def test_rbac_denied_forward_fails_with_reason(manager, mesh):
    fwd = await manager.acquire("istioinaction", pod_name(mesh, "catalog"), 15000)
    try:
        sim(mesh, "/_sim/auth/forbidden")
        assert not await fwd.probe()
        assert fwd.status.state == ForwardState.FAILED
        assert fwd.status.reason.startswith("RBAC denied (403)")
        assert "pods/portforward" in fwd.status.reason
    finally:
        sim(mesh, "/_sim/auth/ok")


async def test_closed_port_in_pod_is_reported(manager, mesh):
    fwd = await manager.acquire("istioinaction", pod_name(mesh, "catalog"), 15999)
    async with httpx.AsyncClient() as c:
        with pytest.raises(httpx.HTTPError):
            await c.get(fwd.url + "/ready")
    await until(lambda: "kubelet" in fwd.status.reason, 5, "kubelet reason")
    assert "connection refused" in fwd.status.reason


async def test_pod_deleted_closes_its_forwards(manager, mesh):
    fwd = await manager.acquire("istioinaction", "gone-pod", 15000)
    await manager.pod_deleted("istioinaction", "gone-pod")
    assert fwd.status.state == ForwardState.CLOSED and manager.statuses() == []


async def test_closed_pod_port_is_failed_with_the_kubelets_reason(mesh):
    seen: list[ForwardState] = []
    manager = ForwardManager(config.load(mesh.kubeconfig), on_change=lambda st: seen.append(st.state))
    try:
        fwd = await manager.acquire("istioinaction", pod_name(mesh, "catalog"), 15999)
        # the kubelet sends the port frames before it dials: the probe must wait for its verdict
        assert not await fwd.probe()
        assert (fwd.status.state, fwd.status.reason) == (ForwardState.FAILED, "kubelet: connection refused")
        for _ in range(3):  # users keep asking: it stays failed, never "up" in between
            async with httpx.AsyncClient() as c:
                with pytest.raises(httpx.HTTPError):
                    await c.get(fwd.url + "/ready", timeout=3)
            await until(lambda: fwd.status.state == ForwardState.FAILED, 3, "failed")
        assert ForwardState.UP not in seen and ForwardState.RECONNECTING not in seen
    finally:
        await manager.close()


async def test_a_pod_side_close_after_connection_close_is_not_a_drop(mesh):
    """Envoy answers `Connection: close` and hangs up; the kubelet ends the stream about
    1 s later with a normal close. That is the end of one connection, not a dropped
    stream: the forward never shows `reconnecting` and opens no healing probe."""
    seen: list[ForwardState] = []
    manager = ForwardManager(config.load(mesh.kubeconfig), on_change=lambda st: seen.append(st.state))
    try:
        fwd = await manager.acquire("istioinaction", pod_name(mesh, "catalog"), 15000)
        assert await fwd.probe()
        streams = fwd.status.streams
        for _ in range(2):
            reader, writer = await asyncio.open_connection("127.0.0.1", fwd.local_port)
            try:
                started = time.monotonic()
                writer.write(b"GET /ready HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
                # read as a close-delimited client does: until the forward ends the connection
                answer = await asyncio.wait_for(reader.read(), 10)
                took = time.monotonic() - started
            finally:
                writer.close()
            assert answer.startswith(b"HTTP/1.1 200") and b"connection: close" in answer.lower()
            assert b"LIVE" in answer
            assert took >= 0.8  # the end came from the kubelet's close, after the runtime's 1 s
        assert ForwardState.RECONNECTING not in seen
        assert fwd.status.state == ForwardState.UP
        assert fwd.status.streams == streams + 2  # one per connection, no healing probe
    finally:
        await manager.close()


CONTAINERD = (
    'error forwarding port 15999 to pod 0f3c, uid : failed to execute portforward in network namespace "'
    '/var/run/netns/cni-0f3c": failed to connect to localhost:15999 inside namespace "0f3c", IPv4: dial '
    "tcp4 127.0.0.1:15999: connect: connection refused IPv6 dial tcp6 [::1]:15999: connect: {v6} "
)


@pytest.mark.parametrize("v6", ["connection refused", "cannot assign requested address"])
def test_containerds_whole_error_is_read_for_the_ipv4_answer(v6):
    """containerd names both families it dialled; a pod without ::1 says so in the IPv6 half,
    which must not hide the IPv4 refusal (it decides that retrying is pointless)."""
    assert kubelet_error(CONTAINERD.format(v6=v6).encode()) == "kubelet: connection refused"


async def test_a_refused_port_on_a_pod_without_ipv6_fails_at_once(tmp_path, mesh):
    from helpers.kube_cluster import tls_cluster
    from meshtui.demo.simpod import Container, SimPod

    with tls_cluster(tmp_path, mesh) as cluster:
        pod = SimPod(
            "v4only-0", "istioinaction", "v4only", "10.244.3.1", [Container("a", "a")], loopback6=False
        )
        cluster.run(cluster.api.add_pod(pod))
        manager = ForwardManager(config.load(cluster.kubeconfig()))
        try:
            fwd = await manager.acquire("istioinaction", "v4only-0", 15999)
            assert not await fwd.probe()
            assert (fwd.status.state, fwd.status.reason) == (
                ForwardState.FAILED,
                "kubelet: connection refused",
            )
        finally:
            await manager.close()
