"""The Control plane place, driven with Pilot against a test-local istiod 15014 (the real
captures served on loopback) reached through a real port-forward of a simulated API
server, and a real Envoy (the demo mesh's catalog sidecar) for the config diff."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from helpers.apps import NOW, PODS, FixedAdmin, fixed_app
from helpers.istiod_fake import fake_istiod, port_of, sim_cluster
from helpers.loopback import loopback_http
from helpers.wait import until
from meshtui.demo.simpod import Container, SimPod
from meshtui.kube import config
from meshtui.kube.access import MeshAccess
from meshtui.kube.portforward import ForwardManager
from meshtui.ui.app import MeshtuiApp, Options
from meshtui.ui.export import screen_lines
from meshtui.ui.istiod.config_diff import ConfigDiffScreen
from meshtui.ui.istiod.pane import NO_CLUSTER, IstiodPane
from meshtui.ui.messages import ShowPod

ISTIOD = "istiod-7d4f5d6c9-x8kqn"
CATALOG = "catalog-6cf4b97d-5kkz8"
NACK = "Error adding/updating listener(s) 0.0.0.0_8080: duplicate listener"


def stale_catalog(syncz: str) -> str:
    """The kiali capture plus the demo's catalog, STALE on LDS with istiod's NACK message
    (the newer syncz shape: `resources` per type URL, pilot/pkg/xds/debug.go)."""
    doc = json.loads(syncz)
    doc.append(
        {
            "cluster_id": "Kubernetes",
            "proxy": f"{CATALOG}.istioinaction",
            "proxy_type": "sidecar",
            "istio_version": "1.17.8",
            "resources": {
                "type.googleapis.com/envoy.config.listener.v3.Listener": {
                    "sent": "n2",
                    "acked": "n1",
                    "lastError": NACK,
                },
                "type.googleapis.com/envoy.config.cluster.v3.Cluster": {"sent": "c1", "acked": "c1"},
            },
        }
    )
    return json.dumps(doc)


@pytest.fixture()
async def setup(tmp_path, mesh):
    """(app, fake istiod, messages seen); the catalog pod forwards 15000 to the real Envoy."""
    catalog_admin = mesh.info["admin"]["catalog"]
    with fake_istiod() as istiod, sim_cluster(tmp_path, {ISTIOD: 0}) as k8s:
        k8s.api.pods[("istio-system", ISTIOD)].forwards[15014] = port_of(istiod.url)
        catalog = SimPod(
            CATALOG, "istioinaction", "catalog", "10.10.0.17", [Container("istio-proxy", "proxyv2:1.17.8")]
        )
        catalog.forwards[15000] = port_of(catalog_admin)
        k8s.run(k8s.api.add_pod(catalog))
        istiod.syncz = stale_catalog(istiod.syncz)
        # istiod "sent" catalog a route config (RDS) that its Envoy does not hold: one more domain
        dump = json.loads(httpx.get(catalog_admin + "/config_dump", trust_env=False).text)
        routes = [s for s in dump["configs"] if s.get("dynamic_route_configs")]
        routes[0]["dynamic_route_configs"][0]["route_config"]["virtual_hosts"][0]["domains"].append(
            "catalog.example:42"
        )
        istiod.config_dump = json.dumps(dump)
        target = config.load(str(k8s.kubeconfig))
        manager = ForwardManager(target)
        base = fixed_app("http://127.0.0.1:9")  # pods from a fixed list; no sidecar is read here
        app = MeshtuiApp(
            Options(interval=0.3),
            clock=lambda: NOW,
            pod_events=base._pod_events,
            endpoint_for=base._endpoint_for,
            access=MeshAccess(target, manager),
        )
        seen: list[object] = []
        yield app, istiod, seen
        await manager.close()


async def test_summary_proxies_and_trends_move(setup):
    app, istiod, seen = setup
    async with app.run_test(size=(160, 48), message_hook=seen.append) as pilot:
        pane = app.query_one(IstiodPane)
        await pilot.press("2")
        await until(lambda: app.place == "istiod" and pane.last is not None, 10, "istiod's first poll")
        summary = str(app.query_one("#istiod-summary").render())
        assert "proxies 3 (3 on 1.17.8)" in summary and "services 13" in summary
        assert "virtual services 1" in summary and "2035-05-01T04:10:23Z" in summary
        rows = pane.proxies.rows
        assert len(rows) == 35 and rows[0].startswith(f"{CATALOG}.istioinaction@{ISTIOD}")  # STALE first
        assert NACK in str(app.query_one("#istiod-proxy-detail").render())
        # a push storm: pushes and convergences move; the trends show it within a few polls
        istiod.bump("pilot_xds_pushes", 30)
        istiod.bump("pilot_proxy_convergence_time_bucket", 6)
        await until(lambda: max(pane.last.trends.pushes_per_s, default=0) > 0, 5, "pushes/s moving")
        await until(
            lambda: any(
                getattr(m, "update", None) is not None
                and getattr(m.update, "total", None) is not None
                and (m.update.total.convergence.interval_count or 0) >= 6
                for m in seen
            ),
            5,
            "six new convergences in one interval",
        )
        # the metric browser: filter, sort
        await pilot.press("slash", *"pilot_xds_pushes")
        await until(lambda: len(pane.metrics.rows) == 4, 3, "four push series")
        await pilot.press("enter", "o")
        assert pane.metrics.sort == "rate"
        await pilot.press("slash", "ctrl+u", *"re:reject|timeout")
        await until(lambda: pane.metrics.rows == [] or all("re" in r for r in pane.metrics.rows), 3, "regex")


async def test_enter_opens_the_pod_and_d_shows_the_diff(setup):
    app, istiod, seen = setup
    async with app.run_test(size=(160, 48), message_hook=seen.append) as pilot:
        pane = app.query_one(IstiodPane)
        await pilot.press("2")
        await until(lambda: pane.last is not None and pane.proxies.rows, 10, "proxies")
        pane.proxies.focus()
        await pilot.press("d")
        await until(lambda: isinstance(app.screen, ConfigDiffScreen), 15, "the diff screen")
        text = str(app.screen.query_one("#config-diff").render())
        assert "Routes Don't Match" in text and "Listeners Match" in text and "Clusters Match" in text
        assert any(line.startswith("-") and "catalog.example:42" in line for line in text.splitlines())
        assert any(f"/debug/config_dump?proxyID={CATALOG}.istioinaction" in r for r in istiod.requests)
        await pilot.press("escape")
        await pilot.press("enter")
        await until(lambda: app.place == "proxies", 3, "back to the proxies")
        assert any(isinstance(m, ShowPod) and m.pod_name == CATALOG for m in seen)
        await until(lambda: app.pods.selected and app.pods.selected.name == CATALOG, 3, "catalog selected")
        assert app.query_one("#views").active == "tab-stats"


async def test_garbage_on_15014_is_one_line_and_the_app_goes_on(setup):
    app, istiod, _ = setup
    istiod.metrics = "<html><body>upstream connect error</body></html>"
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(IstiodPane)
        await pilot.press("2")
        state = app.query_one("#istiod-state")
        await until(lambda: "not Prometheus text" in str(state.render()), 10, "the one line")
        assert state.has_class("error") and "\n" not in str(state.render()).strip()
        istiod.metrics = (await _seed()).strip() + "\n"
        await until(lambda: pane.last is not None, 10, "recovered by itself")
        await pilot.press("1")
        assert app.place == "proxies" and app.pods.display


async def _seed() -> str:
    from helpers.istiod_fake import SEED_METRICS

    return SEED_METRICS.read_text()


async def test_no_cluster_under_admin_is_one_line():
    with loopback_http(FixedAdmin) as url:
        app = MeshtuiApp(Options(admin=url, interval=3600))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("2")
            state = app.query_one("#istiod-state")
            await until(lambda: str(state.render()) == NO_CLUSTER, 3, "no-cluster line")
            assert not app.query_one("#istiod-views").display


def test_pods_have_the_istiod_fixture_names():
    assert {p.name for p in PODS} >= {ISTIOD, CATALOG}


async def test_at_80x24_the_sync_table_shows_proxy_rows(setup):
    app, _, _ = setup
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(IstiodPane)
        await pilot.press("2")
        await until(lambda: pane.last is not None and pane.proxies.rows, 10, "proxies")
        await pilot.pause()
        # the header takes one line of the table; at least three proxies below it
        assert pane.proxies.region.height - 1 >= 3, pane.proxies.region
        detail = app.query_one("#istiod-proxy-detail")
        assert detail.region.height >= 2 and "LDS NACK" in str(detail.render())


CDS_URL = "type.googleapis.com/envoy.config.cluster.v3.Cluster"


def with_replicas(syncz: str, names: list[str]) -> str:
    """Replicas of one workload, as `kubectl scale` makes them: names alike but their suffix."""
    doc = json.loads(syncz)
    for name in names:
        doc.append(
            {
                "cluster_id": "Kubernetes",
                "proxy": f"{name}.istioinaction",
                "proxy_type": "sidecar",
                "istio_version": "1.17.8",
                "resources": {CDS_URL: {"sent": "c", "acked": "c"}},
            }
        )
    return json.dumps(doc)


async def test_at_80x24_replicas_are_told_apart_and_no_figure_is_cut(setup):
    """Scaled to three, two catalog rows read the same at 80 columns (names cut to 16, ECDS
    `NOT SE`); the pushes line ended `rds ` with its number on a line nobody saw."""
    app, istiod, _ = setup
    replicas = ["catalog-c98a535b1-16c16", "catalog-c98a535b1-d5cce", "catalog-c98a535b1-x2x9q"]
    istiod.syncz = with_replicas(istiod.syncz, replicas)
    istiod.bump("pilot_xds_pushes", 123456)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(IstiodPane)
        await pilot.press("2")
        await until(lambda: pane.last is not None and len(pane.proxies.rows) > 30, 10, "proxies")
        rows = pane.proxies
        rows.focus()
        for name in replicas:
            rows.move_to_key(next(k for k in rows.rows if k.startswith(name)))
            await pilot.pause()
            table = rows.region
            lines = screen_lines(app)[table.y : table.y + table.height]
            mine = [line for line in lines if name[-6:] in line]
            assert len(mine) == 1, (name, lines)  # the pod's own suffix is on its row
            # the five statuses whole, in istioctl's words
            assert re.findall(r"SYNCED|NOT SENT|STALE|ERROR", mine[0]) == ["SYNCED"] + ["NOT SENT"] * 4, mine
        header = screen_lines(app)[rows.region.y]
        assert all(col in header for col in ("CDS", "LDS", "EDS", "RDS", "ECDS")), header
        # the summary wraps between figures (no line wider than the box, for Rich to cut
        # anywhere): each xDS type's push count on the line of its name
        box = app.query_one("#istiod-summary")
        text = str(box.render())
        pushes = text[text.index("pushes ") : text.index("triggers ")].splitlines()
        assert len(pushes) > 1 and all(len(line) <= box.content_region.width for line in pushes), pushes
        for line in pushes:
            for kind in re.findall(r"\b(cds|eds|lds|rds)\b", line):
                assert re.search(rf"\b{kind} \d", line), (kind, line)
        # the strip shows a few lines; the rest (the root certificate's expiry last) is
        # reached by keys: tab to it, then end
        strip = app.query_one("#istiod-top")
        assert "days left" not in "".join(screen_lines(app)[strip.region.y : strip.region.bottom])
        while app.focused is not strip:
            await pilot.press("tab")
        await pilot.press("end")
        await pilot.pause()
        shown = "".join(screen_lines(app)[strip.region.y : strip.region.bottom])
        assert "days left" in shown and "validation" in shown, shown


async def test_at_80x24_the_metrics_tell_series_apart(setup):
    """At 80 columns SERIES was cut to 20 characters: `pilot_push_triggers{` twice."""
    from textual.widgets import Input, TabbedContent

    app, _, _ = setup
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(IstiodPane)
        await pilot.press("2")
        await until(lambda: pane.last is not None and pane.metrics.rows, 10, "metrics")
        pane.query_one("#istiod-views", TabbedContent).active = "istiod-tab-metrics"
        pane.query_one("#istiod-filter", Input).value = "pilot_push_triggers"
        rows = pane.metrics
        await until(lambda: rows.rows and all("triggers" in k for k in rows.rows), 5, "filtered")
        await pilot.pause()
        table = pane.metrics.region
        lines = [line[table.x : table.right] for line in screen_lines(app)[table.y + 1 : table.bottom]]
        series = [line.split(" ", 1)[0] for line in lines if line.strip()]
        triggers = [s for s in series if s.startswith("pilot_push")]
        assert len(triggers) >= 2 and len(set(series)) == len(series), series
        assert all(s.endswith("}") for s in triggers), triggers  # the labels, whole


async def test_opening_the_place_focuses_the_sync_table(setup):
    app, istiod, _ = setup
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.query_one(IstiodPane)
        await pilot.press("2")
        await until(lambda: pane.last is not None and len(pane.proxies.rows) > 2, 10, "proxies")
        assert app.focused is pane.proxies
        await pilot.press("down", "d")
        second = pane.proxies.by_key[pane.proxies.rows[1]].proxy
        await until(lambda: any(f"proxyID={second}" in r for r in istiod.requests), 10, "row 2's diff asked")
        assert not any(f"proxyID={CATALOG}" in r for r in istiod.requests)  # not row 1's
