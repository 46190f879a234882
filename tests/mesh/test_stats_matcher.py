"""Say why a stat is missing: the bootstrap's stats_matcher, and the annotation to copy."""

from __future__ import annotations

import json

from helpers.wait import until
from meshtui.envoy.stats_matcher import StatsMatcher, annotation_for
from meshtui.ui.app import MeshtuiApp, Options


def test_istio_inclusion_list_from_a_real_dump(fixtures):
    doc = json.loads((fixtures / "upstream/istio/productpage-v1-c7765c886-v99jb.json").read_text())
    m = StatsMatcher.from_bootstrap(doc["configs"][0]["bootstrap"])
    assert m.mode == "inclusion" and ("prefix", "cluster_manager") in m.patterns
    assert m.excludes("cluster.outbound|9080||reviews")  # Istio's default set: not there
    assert m.excludes("runtime.")
    assert not m.excludes("cluster.xds-grpc.upstream_rq")  # inside an included prefix
    assert not m.excludes("cluster")  # a shorter prefix: cluster.xds-grpc.* still passes
    assert "cluster_manager" in m.listing()


def test_other_matchers():
    assert StatsMatcher.from_bootstrap({}).mode == "all"
    assert not StatsMatcher.from_bootstrap({}).excludes("anything")
    assert StatsMatcher.from_bootstrap({"stats_config": {"stats_matcher": {"reject_all": True}}}).excludes(
        "x"
    )
    ex = StatsMatcher.from_bootstrap(
        {"stats_config": {"stats_matcher": {"exclusion_list": {"patterns": [{"prefix": "vhost."}]}}}}
    )
    assert ex.excludes("vhost.x") and not ex.excludes("cluster.")
    suffix = StatsMatcher("inclusion", (("suffix", "rbac.allowed"),))
    assert not suffix.excludes("http.")  # a suffix may let some through: never claim more


def test_annotation_is_istios_proxy_config():
    line = annotation_for("cluster.outbound|80||catalog.istioinaction")
    key, _, value = line.partition(": ")
    assert key == "proxy.istio.io/config"
    cfg = json.loads(value.strip("'"))
    assert cfg == {"proxyStatsMatcher": {"inclusionPrefixes": ["cluster.outbound|80||catalog.istioinaction"]}}
    assert json.loads(annotation_for("re:.*rbac.*").partition(": ")[2].strip("'")) == {
        "proxyStatsMatcher": {"inclusionRegexps": [".*rbac.*"]}
    }


async def test_filter_on_an_excluded_prefix_explains_it(mesh):
    """The demo's Envoys carry Istio's inclusion list: `runtime.` stats are never created."""
    app = MeshtuiApp(Options(admin=mesh.info["admin"]["webapp"], interval=0.3))
    async with app.run_test(size=(160, 48)) as pilot:
        stats = app.stats
        await until(lambda: stats.table.rows, 10, "stats rows")
        stats.table.focus()
        await pilot.press("slash", *"runtime.", "enter")
        detail = stats.query_one("#stat-detail-text")
        await until(lambda: "never created" in str(detail.render()), 5, "the explanation")
        text = str(detail.render())
        assert "are never created" in text and "inclusion list" in text and "cluster_manager" in text
        assert """proxy.istio.io/config: '{"proxyStatsMatcher":{"inclusionPrefixes":["runtime."]}}'""" in text
        assert "see why below" in str(stats.query_one("#stats-state").render())
        # a filter that matches again clears it
        await pilot.press("slash", *["backspace"] * 8, *"server.", "enter")
        await until(lambda: stats.table.rows, 5, "rows again")
        assert "never created" not in str(detail.render())
        # text inside names, not at their start: said so, not blamed on the stats_matcher
        await pilot.press("slash", *["backspace"] * 7, *"upstream_rq", "enter")
        state = stats.query_one("#stats-state")
        await until(lambda: "contain it" in str(state.render()), 5, "the substring hint")
        assert "re:upstream_rq shows them" in str(state.render())
        assert "never created" not in str(detail.render())
