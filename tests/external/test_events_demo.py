"""The Events place, the config history and `meshtui events` on the demo, driven by real
kubectl against real Envoys: a VirtualService with 4 retries then `kubectl rollout restart`
give, each within 5 s and in order, the object created, the push it triggered, webapp's RDS
sent and acked, the old pod terminating, the new pod added and ready, and the new Envoy's
first sync; webapp's config history (`h` in its Config tab) and `meshtui config --diff` on
its dumps say `retries 0 -> 4`; `--record` keeps every entry. The demo's broken EnvoyFilter
gives a NACK entry with its code and a recovery entry once deleted; catalog failing most
requests, an error burst on webapp's Envoy and its end; a killed Envoy the pod's restart
entry with exit code 137 and the Envoy's own (its uptime started again)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from textual.widgets import Static

from helpers.cli import meshtui
from helpers.kubectl import kubectl, needs_kubectl
from helpers.mesh import descendants, envoys, select_pod, stop_process
from helpers.wait import until, wait_for
from meshtui.demo.examples import CATALOG_RETRIES
from meshtui.demo.run import MeshProcess, start_mesh
from meshtui.events.model import MeshEvent
from meshtui.events.record import read_back
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.events.pane import EventsPane
from meshtui.ui.proxies.config import ConfigPane
from meshtui.ui.proxies.config_history import ConfigHistoryScreen

pytestmark = needs_kubectl
NS = "istioinaction"
VS = CATALOG_RETRIES  # the demo's own example (demo/examples.py)


def events_command(mesh: MeshProcess, seconds: int) -> list[str]:
    """`meshtui events --duration SECONDS --json` on the mesh, as a user runs it."""
    return [
        sys.executable,
        "-m",
        "meshtui",
        "events",
        "--duration",
        str(seconds),
        "--json",
        "--kubeconfig",
        str(mesh.kubeconfig),
    ]


@pytest.fixture(scope="module")
def own_mesh() -> Iterator[MeshProcess]:
    """A mesh of its own: this module changes routes, restarts webapp and kills an Envoy."""
    with start_mesh(rate=3.0) as m:
        yield m


def first(entries: list[MeshEvent], kind: str, obj: str, text: str, after: int = 0) -> MeshEvent | None:
    return next(
        (e for e in entries if e.seq > after and e.kind == kind and obj in e.object and text in e.summary),
        None,
    )


async def test_a_virtualservice_and_a_rollout_in_order_within_5s(own_mesh, tmp_path):
    mesh = own_mesh
    admin = mesh.info["admin"]["webapp"]
    before = tmp_path / "before.json"
    before.write_text(httpx.get(f"{admin}/config_dump", timeout=10).text)
    # `meshtui events` beside the app, through the same steps: the same entries
    headless_out = tmp_path / "headless.jsonl"
    cmd = events_command(mesh, 60)
    with headless_out.open("w") as f:
        headless = subprocess.Popen(cmd, stdout=f, stderr=subprocess.DEVNULL)
    try:
        await _the_steps(mesh, tmp_path, admin, before)
        wait_for(lambda: "first full sync" in headless_out.read_text(), 10, "the headless timeline caught up")
    finally:
        stop_process(headless)
    printed = [json.loads(x) for x in headless_out.read_text().splitlines() if x.strip()]
    app_said = [x for x in read_back(tmp_path / "rec")]

    def steps(entries: list[dict]) -> tuple[list[tuple[str, str]], set[str]]:
        """The steps' entries: Kubernetes' in order (each watch sees every change), istiod's as
        milestones (a poll may catch a new proxy half-synced, another whole: the same facts)."""
        kube, milestones = [], set()
        for x in entries:
            summary, obj = x["summary"], x["object"]
            if x["kind"] == "VirtualService":
                kube.append((x["kind"], summary))
            elif x["kind"] == "Pod" and "webapp" in obj:
                kube.append((x["kind"], summary.split(" (")[0]))
            elif x["kind"] == "Proxy" and "webapp" in obj:
                milestones |= {m for m in ("connected", "first full sync", "disconnected") if m in summary}
            elif x["kind"] == "xDS" and "webapp" in obj and "RDS" in summary and " acked" in summary:
                milestones.add("RDS acked")
        return kube, milestones

    assert steps(printed) == steps(app_said), (steps(printed), steps(app_said))


async def _the_steps(mesh: MeshProcess, tmp_path: Path, admin: str, before: Path) -> None:
    app = MeshtuiApp(Options(kubeconfig=mesh.kubeconfig, record=str(tmp_path / "rec")))
    async with app.run_test(size=(160, 48)) as pilot:
        await select_pod(app, pilot, "webapp", mesh)  # its config history starts
        config = app.query_one(ConfigPane)
        await until(lambda: config.history and config.history.versions, 15, "webapp's first config version")
        await pilot.press("colon", *"events", "enter")
        pane = app.query_one(EventsPane)
        await until(lambda: any("watching pods" in e.summary for e in pane.log_), 20, "the recorder started")
        # istiod's first answered poll is the baseline its entries are changes from
        await until(
            lambda: any(e.kind == "istiod" and "watching" in e.summary for e in pane.log_), 20, "istiod"
        )
        entries = lambda: list(pane.log_)  # noqa: E731

        applied = time.monotonic()
        r = kubectl(mesh, "apply", "-f", "-", stdin=VS)
        assert r.returncode == 0, r.stderr
        created = await until(
            lambda: first(entries(), "VirtualService", f"{NS}/catalog", "created"), 5, "created"
        )
        assert "retries.attempts=4" in created.summary
        push = await until(lambda: first(entries(), "Push", "istiod", "pushed", created.seq), 5, "its push")
        assert "triggers: config" in push.summary
        rds = await until(lambda: first(entries(), "xDS", "webapp-", "RDS", push.seq - 1), 5, "webapp's RDS")
        assert "acked" in rds.summary and "not acked" not in rds.summary
        assert time.monotonic() - applied < 5 + 1  # 5 s, and the await's own granularity

        after = tmp_path / "after.json"
        await until(
            lambda: "retry_policy" in httpx.get(f"{admin}/config_dump", timeout=10).text, 5, "the route"
        )
        after.write_text(httpx.get(f"{admin}/config_dump", timeout=10).text)
        diff = meshtui("config", "--diff", str(before), str(after))
        assert diff.returncode == 0, diff.stderr
        assert "route 80 / vhost catalog.istioinaction.svc.cluster.local:80" in diff.stdout
        assert "retries 0 -> 4" in diff.stdout

        # the config history of webapp's proxy: the version the VirtualService made
        await until(lambda: len(config.history.versions) >= 2, 10, "a second config version")
        await pilot.press("colon", *"config", "enter")
        await until(lambda: app.place == "proxies", 5, "the Config tab")
        await pilot.press("h")
        await until(lambda: isinstance(app.screen, ConfigHistoryScreen), 5, "the history")
        shown = str(app.screen.query_one("#history-diff", Static).render())
        assert (
            "route 80 / vhost catalog.istioinaction.svc.cluster.local:80" in shown
            and "retries 0 -> 4" in shown
        )
        await pilot.press("escape")
        await pilot.press("colon", *"events", "enter")
        await until(lambda: app.place == "events", 5, "back to Events")

        old_pod = rds.object.split(".")[0]
        mark = max(e.seq for e in entries())
        r = kubectl(mesh, "rollout", "restart", "deployment/webapp", "-n", NS)
        assert r.returncode == 0, r.stderr
        going = await until(lambda: first(entries(), "Pod", old_pod, "terminating", mark), 5, "terminating")
        added = await until(lambda: first(entries(), "Pod", f"{NS}/webapp-", "added", mark), 5, "the new pod")
        new_pod = added.object.split("/")[1]
        assert new_pod != old_pod
        ready = await until(
            lambda: next((e for e in entries() if new_pod in e.object and e.summary == "ready"), None),
            5,
            "ready",
        )
        synced = await until(
            lambda: first(entries(), "Proxy", new_pod, "first full sync", mark), 5, "first sync"
        )
        assert "CDS LDS EDS RDS acked" in synced.summary
        assert ready.seq > added.seq and synced.seq > added.seq and going.seq > mark
        # shown newest first, the filter keeps the matching rows
        await pilot.press("slash", *new_pod)
        await until(
            lambda: pane.table.rows and all(new_pod in pane.table.entries[k].object for k in pane.table.rows),
            5,
            "filtered",
        )
        await pilot.press("enter", "enter")  # leave the box, then go to the entry's pod
        await until(lambda: app.place == "proxies", 5, "the Proxies place")
        shown = [e.as_json() for e in pane.log_]
    # --record: every entry the place listed, as JSON lines that outlive the app
    assert list(read_back(tmp_path / "rec"))[: len(shown)] == shown


def envoy_of(mesh: MeshProcess, pod: str) -> int:
    (pid,) = [p for p in envoys(descendants(mesh.proc.pid)) if pod in Path(f"/proc/{p}/cmdline").read_text()]
    return pid


def test_headless_events_nack_recovery_and_a_killed_envoy(own_mesh, tmp_path):
    mesh = own_mesh
    out = tmp_path / "events.jsonl"
    cmd = events_command(mesh, 120)
    cmd += ["--record", str(tmp_path / "rec")]
    with out.open("w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.PIPE)
    try:

        def lines() -> list[dict]:
            return [json.loads(x) for x in out.read_text().splitlines() if x.strip()]

        def has(kind: str, text: str) -> dict | None:
            return next((x for x in lines() if x["kind"] == kind and text in x["summary"]), None)

        wait_for(lambda: has("istiod", "watching"), 30, "istiod's first answer (the baseline)")
        body = (Path(mesh.kubeconfig).parent / "broken-envoyfilter.yaml").read_text()
        assert kubectl(mesh, "apply", "-f", "-", stdin=body).returncode == 0
        nack = wait_for(lambda: has("xDS", "NACK"), 10, "the NACK entry")
        assert "rejected (" in nack["summary"] and nack["detail"]["type"] in ("CDS", "LDS", "RDS")
        assert kubectl(mesh, "delete", "-f", "-", stdin=body).returncode == 0
        wait_for(lambda: has("xDS", "accepted again"), 10, "the recovery entry")
        r = kubectl(mesh, "get", "pods", "-n", NS, "-l", "app=catalog", "-o", "name")
        pod = r.stdout.split()[0].split("/")[1]
        # catalog answering 500 to most requests: a burst on webapp's cluster for it, then over
        assert kubectl(mesh, "annotate", "pod", pod, "-n", NS, "demo.meshtui/fault=abort=80").returncode == 0
        burst = wait_for(
            lambda: has("Envoy", "outbound|80||catalog.istioinaction.svc.cluster.local: error burst,"),
            15,
            "a burst",
        )
        assert burst["object"].startswith(f"{NS}/webapp-") and burst["detail"]["errors"] >= 5
        assert kubectl(mesh, "annotate", "pod", pod, "-n", NS, "demo.meshtui/fault-").returncode == 0
        wait_for(
            lambda: has("Envoy", "catalog.istioinaction.svc.cluster.local: error burst over"), 15, "over"
        )
        os.kill(envoy_of(mesh, pod), signal.SIGKILL)
        restart = wait_for(lambda: has("Pod", "restarted"), 15, "the restart entry")
        assert "exit 137" in restart["summary"] and restart["object"] == f"{NS}/{pod}"
        # and the Envoy's own view of it: its uptime started again
        envoy = wait_for(lambda: has("Envoy", "restarted (uptime"), 15, "the Envoy's restart entry")
        assert envoy["object"] == f"{NS}/{pod}"
        for x in lines():
            assert set(x) == {"time", "kind", "object", "summary", "detail"}
            assert x["time"].endswith("Z")
    finally:
        stop_process(proc)
    recorded = (tmp_path / "rec").glob("events-*.jsonl")
    assert sum(len(p.read_text().splitlines()) for p in recorded) == len(out.read_text().splitlines())
