"""A local client that half-closes (sends its request, then EOF, then reads: `nc -N`,
`curl --no-keepalive` over HTTP/1.0, a database dump) still gets the pod's answer, as
through kubectl's port-forward: only the pod's side ending ends the stream."""

from __future__ import annotations

import asyncio
import contextlib

from helpers.kube_cluster import NS, tls_cluster
from meshtui.demo.simpod import Container, SimPod
from meshtui.kube import config
from meshtui.kube.portforward import ForwardManager

ANSWER = b"pong: the answer comes after the client's EOF\n"


async def slow_answering_server() -> tuple[asyncio.Server, int]:
    """Reads a line, takes its time (as a server doing work does), answers, closes."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        await asyncio.sleep(0.3)  # the server's work; the client's EOF is already on its way
        writer.write(ANSWER)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_the_answer_after_a_local_half_close_arrives(tmp_path, mesh):
    server, port = await slow_answering_server()
    try:
        with tls_cluster(tmp_path, mesh) as cluster:
            pod = SimPod("worker-0", NS, "worker", "10.244.0.20", [Container("app", "w")], {9000: port})
            cluster.run(cluster.api.add_pod(pod))
            manager = ForwardManager(config.load(cluster.kubeconfig()))
            try:
                fwd = await manager.acquire(NS, "worker-0", 9000)
                local = int(fwd.url.rsplit(":", 1)[1])
                reader, writer = await asyncio.open_connection("127.0.0.1", local)
                writer.write(b"ping\n")
                await writer.drain()
                writer.write_eof()  # shutdown(SHUT_WR): nothing more to send, still reading
                got = await asyncio.wait_for(reader.read(), 10)
                writer.close()
                assert got == ANSWER
            finally:
                await manager.close()
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()
