"""`meshtui demo` on a machine without Prometheus's binary: no Prometheus pod or Service,
and `meshtui mesh` says what it looked for and how to install it, in one line, exit 2 (the
Mesh place's same line is tests/mesh/test_mesh_place.py). The rest of the demo is whole."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from helpers.cli import meshtui
from helpers.kubectl import kubectl
from meshtui.demo.run import start_mesh


def test_the_demo_without_prometheus_installed():
    path = str(Path(sys.executable).parent)  # the venv's own tools, not /usr/bin/prometheus
    assert shutil.which("prometheus", path=path) is None
    with start_mesh(rate=0, env={"PATH": path}) as m:
        assert m.info["prometheus"] == ""
        pods = kubectl(m, "get", "pods", "-A", "-o", "name").stdout.split()
        assert not [p for p in pods if "prometheus" in p]
        assert any("catalog" in p for p in pods)
        r = meshtui("mesh", "--kubeconfig", str(m.kubeconfig), timeout=60)
        assert r.returncode == 2, r.stdout
        (line,) = r.stderr.strip().splitlines()
        assert "no Prometheus: looked for service istio-system/prometheus:9090" in line
        assert "samples/addons/prometheus.yaml" in line
        stats = meshtui(
            "stats",
            "deploy/webapp",
            "-n",
            "istioinaction",
            "--kubeconfig",
            str(m.kubeconfig),
            "--filter",
            "server.live",
            timeout=60,
        )
        assert stats.returncode == 0 and "server.live" in stats.stdout, stats.stderr
