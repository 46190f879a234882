"""Export keys: the focused pane as text and JSON, an SVG screenshot; files read back."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from helpers.mesh import select_pod
from helpers.wait import until
from meshtui.ui.app import MeshtuiApp, Options


async def _saved(app: MeshtuiApp, pilot, key: str, before):
    await pilot.press(key)
    return await until(lambda: app.last_export != before and app.last_export, 5, f"a file from {key}")


async def test_export_text_json_svg_and_copy(mesh, tmp_path):
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, interval=0.3, export_dir=str(tmp_path)))
    async with app.run_test(size=(160, 48)) as pilot:
        name = await select_pod(app, pilot, "webapp", mesh)
        stats = app.stats
        await until(lambda: stats.table.rows and stats.table.snapshot, 10, "stats rows")
        stats.table.focus()
        await pilot.press("p")  # pause, so the file and the screen show the same numbers
        await pilot.pause()

        path = await _saved(app, pilot, "e", None)
        assert path.parent == tmp_path and path.name.startswith("meshtui-stats-") and path.suffix == ".txt"
        text = path.read_text()
        first = stats.table.rows[0]
        assert "NAME" in text and first[:40] in text
        assert "ctx " not in text  # the pane only, not the status line
        assert any(n.message.endswith(str(path)) for n in app._notifications)  # the path is shown

        path = await _saved(app, pilot, "E", path)
        doc = json.loads(path.read_text())
        assert doc["pane"] == "stats" and doc["source"] == f"{name}:15000"
        assert [r["name"] for r in doc["rows"]] == stats.table.rows
        row = doc["rows"][0]
        assert row["value"] == stats.table.snapshot.values[row["name"]]
        assert {"kind", "delta", "rate_per_s"} <= set(row)

        # copy: the selected stat, name and value, goes to the clipboard (OSC 52 in a terminal)
        await pilot.press("c")
        assert app.clipboard == f"{first} {stats.table.snapshot.values[first]}"

        path = await _saved(app, pilot, "S", path)
        assert path.suffix == ".svg"
        root = ET.fromstring(path.read_text())
        assert root.tag.endswith("svg")
        assert "meshtui" in path.read_text()

        # the clusters pane: its rows with the pane's own columns
        app.query_one("#views").active = "tab-clusters"
        clusters = app.clusters
        await until(lambda: clusters.table.rows, 10, "clusters")
        clusters.table.focus()
        await pilot.pause()
        path = await _saved(app, pilot, "E", path)
        doc = json.loads(path.read_text())
        assert doc["pane"] == "clusters"
        assert [r["cluster"] for r in doc["rows"]] == clusters.table.rows
        assert "SERVICE FQDN" in doc["rows"][0]

        # the pods list (a DataTable): one record per row, keyed by the column labels
        app.pods.table.focus()
        await pilot.pause()
        path = await _saved(app, pilot, "E", path)
        doc = json.loads(path.read_text())
        assert doc["pane"] == "pods"
        assert any(name in json.dumps(r) for r in doc["rows"])
        path = await _saved(app, pilot, "e", path)
        assert name in path.read_text()

        # a mesh-wide place (the demo istiod through its port-forward): its focused table
        await pilot.press("2")
        pane = app.place_widget("istiod")
        await until(lambda: app.place == "istiod" and pane.metrics.rows, 20, "istiod's metrics")
        pane.metrics.focus()
        await pilot.pause()
        path = await _saved(app, pilot, "E", path)
        doc = json.loads(path.read_text())
        assert doc["pane"] == "istiod-metrics" and doc["header"]  # the istiod place's metrics tab
        assert [r["key"] for r in doc["rows"]] == pane.metrics.rows
        assert all(r["text"] for r in doc["rows"])


def test_local_clipboard_fallback(tmp_path):
    from meshtui import clipboard

    tool = tmp_path / "xclip"
    out = tmp_path / "clip.txt"
    tool.write_text(f"#!/bin/sh\ncat > {out}\n")
    tool.chmod(0o755)
    env = {"PATH": str(tmp_path), "DISPLAY": ":0"}
    assert clipboard.copy_locally("cluster.x.upstream_rq_total 7", env) == "xclip"
    assert out.read_text() == "cluster.x.upstream_rq_total 7"
    # over SSH the local tools would fill the remote host's clipboard: OSC 52 only
    assert clipboard.local_tool({**env, "SSH_CONNECTION": "10.0.0.1 5 10.0.0.2 22"}) is None
    assert clipboard.local_tool({"PATH": str(tmp_path)}) is None  # no display: nothing to reach
