"""`kubectl port-forward` works against the demo, as against a real cluster: kubectl 1.31+
tunnels SPDY streams in a websocket (`SPDY/3.1+portforward.k8s.io`), and the demo's API
server and kubelet answer them (demo/spdy.py, demo/podforward_spdy.py) -- many connections
on one forward, a half-close carried as a FIN, a refused port's kubelet error."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from helpers.mesh import pod_name, stop_process
from helpers.sshd import free_port
from helpers.wait import wait_for
from meshtui.demo.spdy import DICTIONARY, DICTIONARY_ID, SYN_REPLY, Framer

NS = "istioinaction"
pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is the client under test")


@contextlib.contextmanager
def kubectl_port_forward(mesh, pod: str, *ports: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        ["kubectl", "--kubeconfig", mesh.kubeconfig, "-n", NS, "port-forward", pod, *ports],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        local = int(ports[0].split(":")[0])

        def listening() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", local), 0.2):
                return True
            assert proc.poll() is None, proc.communicate()[1]
            return False

        wait_for(listening, 20, "kubectl port-forward listening")
        yield proc
    finally:
        stop_process(proc)


def test_the_spdy_dictionary_is_the_specs():
    import zlib

    assert len(DICTIONARY) == 1423 and zlib.adler32(DICTIONARY) == DICTIONARY_ID


def test_a_syn_reply_reads_back_with_its_headers():
    server, client = Framer(), Framer()
    frames = client.feed(server.syn_reply(3, {"x": "1"}) + server.syn_reply(5))
    assert [(f.kind, f.stream, f.headers) for f in frames] == [(SYN_REPLY, 3, {"x": "1"}), (SYN_REPLY, 5, {})]


def test_kubectl_port_forward_carries_many_connections(mesh):
    local = free_port()
    catalog = pod_name(mesh, "catalog")
    with kubectl_port_forward(mesh, catalog, f"{local}:15000"):
        url = f"http://127.0.0.1:{local}"
        with httpx.Client(trust_env=False, timeout=10) as c:
            assert c.get(url + "/ready").text.strip() == "LIVE"
            stats = c.get(url + "/stats").text
            assert "server.live: 1" in stats and len(stats) > 10_000  # many frames, one stream

        async def many() -> list[str]:
            async with httpx.AsyncClient(trust_env=False, timeout=10) as c:
                # new connections each: one SPDY stream pair per connection, side by side
                limits = httpx.Limits(max_keepalive_connections=0)
                async with httpx.AsyncClient(trust_env=False, timeout=10, limits=limits) as fresh:
                    answers = await asyncio.gather(*(fresh.get(url + "/ready") for _ in range(8)))
                return [r.text.strip() for r in answers] + [(await c.get(url + "/ready")).text.strip()]

        assert asyncio.run(many()) == ["LIVE"] * 9


def test_a_half_close_reaches_the_pod_and_the_answer_comes_back(mesh):
    """A request with the write side shut after it (the FIN travels as a SPDY FIN;
    the runtime then gives the pod 1 s): Envoy's answer comes back whole."""
    local = free_port()
    with kubectl_port_forward(mesh, pod_name(mesh, "catalog"), f"{local}:15000"):
        with socket.create_connection(("127.0.0.1", local), 5) as s:
            s.sendall(b"GET /ready HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
            s.shutdown(socket.SHUT_WR)
            s.settimeout(10)
            got = b""
            while chunk := s.recv(65536):
                got += chunk
        assert got.startswith(b"HTTP/1.1 200"), got[:80]
        assert got.endswith(b"\r\n5\r\nLIVE\n\r\n0\r\n\r\n")  # the whole chunked body, to its end


def test_a_refused_port_shows_the_kubelets_error(mesh):
    local = free_port()
    with kubectl_port_forward(mesh, pod_name(mesh, "catalog"), f"{local}:9999") as proc:
        with socket.create_connection(("127.0.0.1", local), 5) as s:
            s.settimeout(10)
            assert s.recv(100) == b""  # closed: nothing listens on 9999 in the pod
        proc.wait(15)  # kubectl 1.31+ ends the forward on a stream error
        err = proc.stderr.read() if proc.stderr else ""
    assert "error forwarding port 9999 to pod" in err and "connect: connection refused" in err


@pytest.mark.parametrize(
    ("ports", "says"),
    [
        (
            "70000",
            'unable to parse "70000" as a port: strconv.ParseUint: parsing "70000": value out of range',
        ),
        ("0", 'port "0" must be > 0'),
        ("http", 'unable to parse "http" as a port: strconv.ParseUint: parsing "http": invalid syntax'),
    ],
)
def test_a_bad_port_is_refused_before_the_upgrade_as_the_kubelet_does(mesh, ports, says):
    """websocket.go NewV4Options: a 400 with the parse error as plain text, no upgrade."""
    from helpers.mesh import api_tls

    pod = pod_name(mesh, "catalog")
    r = httpx.get(
        f"{mesh.info['api']}/api/v1/namespaces/{NS}/pods/{pod}/portforward",
        params={"ports": ports},
        headers={
            "Authorization": f"Bearer {mesh.info['token']}",
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Protocol": "v4.channel.k8s.io",
        },
        verify=api_tls(mesh),
        timeout=10,
    )
    assert (r.status_code, r.text.strip()) == (400, says)
