"""Why a port-forward stream failed or ended, in one line, from what the server sent."""

from __future__ import annotations

import asyncio
import json
import re

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus

PROTOCOL = "v4.channel.k8s.io"


def pod_side_close(down: asyncio.Task[None], ws: ClientConnection) -> bool:
    """The stream ended because the pod side hung up (an app answering `Connection:
    close`): the runtime returns about 1 s later without an error and the kubelet's
    wsstream conn.Close() sends a normal (1000) close frame (kubelet
    pkg/cri/streaming/portforward/websocket.go portForward/run; now k8s.io/cri-streaming).
    A cut stream (kubelet or API server restart) ends without one (1006)."""
    if down.cancelled() or down.exception() is not None:
        return False
    received = ws.protocol.close_rcvd
    return received is not None and received.code == 1000


# containerd's dial error names each address family it tried (sandbox_portforward_linux.go):
# `... IPv4: dial tcp4 127.0.0.1:P: connect: connection refused IPv6 dial tcp6 [::1]:P:
# connect: cannot assign requested address ` -- the IPv4 half is the pod's answer, the IPv6
# half often only says the pod has no ::1
_FAMILY = re.compile(r"IPv([46]):? dial tcp[46] \S+: (?:connect: )?(.+?)(?=\s+IPv[46]:? dial |\s*$)")


def kubelet_error(data: bytes) -> str:
    """The kubelet's error line, shortened to what failed: the IPv4 dial's reason when the
    runtime tried both families, else the text after its last colon."""
    text = data.decode(errors="replace").strip()
    families = dict(_FAMILY.findall(text))
    why = families.get("4") or families.get("6") or (text.rsplit(": ", 1)[-1] if ": " in text else text)
    return "kubelet: " + why.strip()[:160]


def rejection(exc: InvalidStatus, protocol: str = PROTOCOL) -> str:
    code = exc.response.status_code
    try:
        message = json.loads(exc.response.body or b"{}").get("message", "")
    except ValueError:
        message = ""
    if code == 403 and message.rstrip().endswith("is forbidden:"):
        # Kubernetes 1.35+ checks `create` in the pod registry, whose denial carries the
        # authorizer's reason, often empty: name the likely missing verb as a hint only
        return (
            f"RBAC denied (403): {message.strip()} (no reason given; from Kubernetes 1.35 a "
            "port-forward needs create on pods/portforward as well as get)"
        )
    if code == 403 and message:
        # the server's own words name the verb it checked: `get` for a websocket upgrade
        return f"RBAC denied (403): {message}"
    if code == 403:
        # a bare 403 is golang.org/x/net/websocket refusing the subprotocol (wsstream/conn.go)
        return f"API server refused the upgrade (403): it does not speak {protocol}"
    if code == 401:
        return "API server rejected the credentials (401): expired or revoked?"
    if code == 404:
        return f"pod gone (404): {message}".rstrip(": ")
    return f"API server answered {code}: {message}".rstrip(": ")


def network_reason(exc: BaseException, server: str) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return f"API server {server} did not answer within the connect timeout"
    if isinstance(exc, ConnectionRefusedError):
        return f"API server {server} unreachable: connection refused"
    if isinstance(exc, websockets.exceptions.ConnectionClosed):
        return "stream closed during the port-forward handshake"
    return f"port-forward failed: {exc}"[:200]
