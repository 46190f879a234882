"""A listener port the demo picked free can be taken by another process before Envoy binds
it (two demos side by side in CI). The pod is then recreated with fresh ports, as a
ReplicaSet recreates a pod that failed, instead of never getting ready."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from meshtui.demo import pods as pods_module
from meshtui.demo.mesh import DemoMesh


async def test_a_taken_listener_port_gives_a_new_pod_not_a_stuck_one(monkeypatch: pytest.MonkeyPatch):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    handed: list[int] = []
    real = pods_module.free_port

    def racy() -> int:  # the first port handed out is one someone else holds
        port = taken.getsockname()[1] if not handed else real()
        handed.append(port)
        return port

    mesh = await DemoMesh(rate=0.0).start()
    try:
        assert mesh.pods is not None
        monkeypatch.setattr(pods_module, "free_port", racy)
        started = time.monotonic()
        running = await asyncio.wait_for(mesh.pods.start("catalog"), 30)
        took = time.monotonic() - started
        assert handed[0] == taken.getsockname()[1]
        # catalog has one listener port (virtualInbound): a second one means a second pod
        assert len(handed) == 2, (handed, running.envoy.listeners)
        assert taken.getsockname()[1] not in running.envoy.listeners.values()
        assert took < 15, f"the failed bind was found at the deadline, not at once ({took:.1f}s)"
    finally:
        await mesh.stop()
        taken.close()
