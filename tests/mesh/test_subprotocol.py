"""Websocket subprotocol negotiation as the kubelet's wsstream/conn.go does it."""

from __future__ import annotations

import base64

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from helpers.mesh import api_tls, pod_name
from meshtui.demo.podforward import negotiate
from meshtui.kube import config
from meshtui.kube import portforward as pf

NS = "istioinaction"


def forward_url(mesh, pod: str, port: int = 15000) -> str:
    base = mesh.info["api"].replace("https://", "wss://")
    return f"{base}/api/v1/namespaces/{NS}/pods/{pod}/portforward?ports={port}"


def open_ws(mesh, protocols: list[str]):
    return connect(
        forward_url(mesh, pod_name(mesh, "catalog")),
        subprotocols=protocols,  # type: ignore[arg-type]
        additional_headers={"Authorization": f"Bearer {mesh.info['token']}"},
        ssl=api_tls(mesh),
        open_timeout=5,
    )


def test_negotiation_picks_the_first_offered_protocol_spoken():
    assert negotiate("") == ""
    assert negotiate("v5.channel.k8s.io, v4.channel.k8s.io") == "v4.channel.k8s.io"
    assert negotiate("v4.base64.channel.k8s.io,v4.channel.k8s.io") == "v4.base64.channel.k8s.io"
    assert negotiate("v5.channel.k8s.io") is None


@pytest.mark.parametrize("offered", [["v5.channel.k8s.io"], ["chat.example"]])
async def test_unknown_subprotocol_is_refused_with_a_bare_403(mesh, offered):
    with pytest.raises(InvalidStatus) as exc:
        async with open_ws(mesh, offered):
            pass
    assert exc.value.response.status_code == 403
    assert exc.value.response.body in (b"", None)


async def test_v4_is_chosen_among_offers(mesh):
    async with open_ws(mesh, ["v5.channel.k8s.io", "v4.channel.k8s.io"]) as ws:
        assert ws.subprotocol == "v4.channel.k8s.io"
        assert await ws.recv() == b"\x00" + (15000).to_bytes(2, "little")


async def test_base64_protocol_carries_text_frames(mesh):
    async with open_ws(mesh, ["v4.base64.channel.k8s.io"]) as ws:
        port = base64.b64encode((15000).to_bytes(2, "little")).decode()
        assert [await ws.recv(), await ws.recv()] == ["0" + port, "1" + port]
        request = b"GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        await ws.send("0" + base64.b64encode(request).decode())
        frame = await ws.recv()
        assert isinstance(frame, str) and frame[0] == "0"
        assert base64.b64decode(frame[1:]).startswith(b"HTTP/1.1 200")


async def test_our_client_names_the_refused_protocol(mesh, monkeypatch):
    monkeypatch.setattr(pf, "PROTOCOL", "v5.channel.k8s.io")
    manager = pf.ForwardManager(config.load(mesh.kubeconfig))
    try:
        fwd = await manager.acquire(NS, pod_name(mesh, "catalog"), 15000)
        assert not await fwd.probe()
        assert fwd.status.state == pf.ForwardState.FAILED
        want = "API server refused the upgrade (403): it does not speak v5.channel.k8s.io"
        assert fwd.status.reason == want
    finally:
        await manager.close()


async def test_two_ports_on_one_stream_get_two_channel_pairs(mesh):
    """websocket.go: `ports=A,B` opens data/error channels 0/1 for A and 2/3 for B, each
    first carrying its port; bytes go to the port their channel names; a port nothing
    listens on gets its error on its own error channel while the other carries on."""
    url = forward_url(mesh, pod_name(mesh, "catalog")).replace("ports=15000", "ports=15000,9999")
    async with connect(
        url,
        subprotocols=["v4.channel.k8s.io"],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Bearer {mesh.info['token']}"},
        ssl=api_tls(mesh),
        open_timeout=5,
    ) as ws:
        first = [await ws.recv() for _ in range(4)]
        a, b = (15000).to_bytes(2, "little"), (9999).to_bytes(2, "little")
        assert first == [b"\x00" + a, b"\x01" + a, b"\x02" + b, b"\x03" + b]
        error = await ws.recv()
        assert error[:1] == b"\x03" and b"error forwarding port 9999" in error
        await ws.send(b"\x00GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        body = b""
        async for frame in ws:
            assert isinstance(frame, bytes) and frame[:1] == b"\x00"
            body += frame[1:]
        assert body.startswith(b"HTTP/1.1 200") and b"LIVE" in body
