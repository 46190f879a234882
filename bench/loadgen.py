"""The big mesh's traffic, in a process of its own: a loopback upstream answering 200 "ok",
and a load loop sending requests through the Envoy's outbound listener.

In the benchmark's process it shared the GIL with the app under test and left ~36 httpx
responses a second of cyclic garbage behind, whose collection (5-17 ms) landed inside
keystrokes; on a cluster the traffic is never in meshtui's process.

Protocol (stdin/stdout, one line each): the child prints the upstream's port; the parent
writes "LISTENER_PORT RATE HOST,HOST,..." to start the load. EOF on stdin stops it, so
it also ends when the parent dies.
Run by bench/bigmesh.py, not by hand.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def load(port: int, rate: float, hosts: list[str], stop: threading.Event) -> None:
    with httpx.Client(timeout=5, trust_env=False) as client:
        i = 0
        while not stop.is_set():
            with contextlib.suppress(httpx.HTTPError):
                client.get(f"http://127.0.0.1:{port}/", headers={"host": hosts[i % len(hosts)]})
            i += 1
            stop.wait(1.0 / rate)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    stop = threading.Event()
    line = sys.stdin.readline()
    if line.strip():
        port, rate, hosts = line.split()
        threading.Thread(
            target=load, args=(int(port), float(rate), hosts.split(","), stop), daemon=True
        ).start()
    sys.stdin.read()  # until the parent closes stdin, or dies
    stop.set()
    server.shutdown()


if __name__ == "__main__":
    main()
