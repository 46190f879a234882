"""A GET to a pod's port through the API server's port-forward, as `kubectl port-forward`
reaches it: the official client's `portforward` stream, one HTTP/1.1 request on it."""

from __future__ import annotations

from kubernetes import client
from kubernetes.stream import portforward


def pod_get(core: client.CoreV1Api, namespace: str, pod: str, port: int, path: str) -> str:
    pf = portforward(core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port))
    sock = pf.socket(port)
    sock.setblocking(True)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    if b"chunked" in head.lower():  # Envoy's admin answers HTTP/1.1 in chunks
        out = b""
        while body:
            size, _, rest = body.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            out, body = out + rest[:n], rest[n + 2 :]
        body = out
    return body.decode(errors="replace")
