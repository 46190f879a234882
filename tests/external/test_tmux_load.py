"""The Load place in tmux at 80x24, keys only, against the demo: `4`, `s` starts the seed's
load loop through the gateway Service (the form's defaults), figures and the status line
move, `+` raises the rate, `s` stops; the gateway Envoy counted what the place sent."""

from __future__ import annotations

import re
import shutil

import httpx
import pytest

from helpers.tmux import start
from helpers.wait import wait_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
COMPLETED = "http.outbound_0.0.0.0_8080.downstream_rq_completed"


def gateway_completed(mesh) -> int:
    admin = mesh.info["admin"]["istio-ingressgateway"]
    r = httpx.get(f"{admin}/stats", params={"filter": "^http.outbound_0.0.0.0_8080.downstream_rq_completed$"})
    return int(r.text.split(":")[1])


def test_the_load_place_at_80x24_by_keys(tmux, mesh, tmp_path):
    start(tmux, mesh, tmp_path)
    tmux.wait("4 Load", 30, "the places bar")
    tmux.keys("4")
    tmux.wait("s starts the load", 10, "the Load place")
    before = gateway_completed(mesh)
    tmux.keys("s")
    screen = tmux.wait("running", 20, "the run")
    assert "sending 10/s" in screen or "resolving" in screen

    def sent() -> int:
        found = re.search(r"sent (\d+)", tmux.screen())
        return int(found.group(1)) if found else 0

    wait_for(lambda: sent() >= 20, 10, "20 requests sent")
    tmux.wait("load 10/s running", 5, "the status line")
    tmux.keys("+")
    tmux.wait("load 12/s running", 5, "the rate raised")
    tmux.keys("s")
    screen = tmux.wait("stopped", 15, "stopped")
    assert "load stopped" in screen.splitlines()[-2]
    final = sent()
    # the demo's own loop goes on meanwhile: the gateway counted at least what the place sent
    wait_for(lambda: gateway_completed(mesh) - before >= final, 10, "the gateway's count")
    assert re.search(r"2xx: \d+", tmux.screen())
