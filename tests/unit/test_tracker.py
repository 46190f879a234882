"""Deltas, rates and resets from successive bodies."""

from __future__ import annotations

from meshtui.envoy.filter import StatFilter, re2_escape
from meshtui.envoy.tracker import StatKinds, StatsTracker

KINDS = StatKinds(gauges=frozenset({"g"}), counters=frozenset({"c", "d"}))


def body(**values):
    return "".join(f"{k}: {v}\n" for k, v in values.items())


def test_rates_and_deltas():
    t = StatsTracker()
    t.kinds = KINDS
    first = t.update(body(c=10, d=5, g=3, h="P50(nan,1)"), now=100.0)
    assert first.elapsed is None and not first.rates and first.names == ("c", "d", "g", "h")
    second = t.update(body(c=30, d=5, g=1, h="P50(nan,2)"), now=102.0)
    assert second.deltas == {"c": 20, "g": -2}
    assert second.rates == {"c": 10.0}
    assert second.resets == frozenset()  # a gauge going down is not a reset
    assert second.names is first.names  # same name set: same tuple, no re-split
    assert second.kind("c") == "counter" and second.kind("g") == "gauge" and second.kind("h") == "histogram"


def test_counter_going_down_is_a_reset_never_a_negative_rate():
    t = StatsTracker()
    t.kinds = KINDS
    t.update(body(c=100), now=0.0)
    snap = t.update(body(c=3), now=1.0)
    assert "c" in snap.resets
    assert all(r >= 0 for r in snap.rates.values()) and "c" not in snap.rates


def test_a_reset_stays_marked_for_a_while_and_across_a_gap():
    """40 -> 0 (an Envoy restarted between two polls, or while it did not answer) was marked
    on one poll only: a user glancing at the screen a second later saw a plain 0."""
    t = StatsTracker()
    t.kinds = KINDS
    t.update(body(c=40, d=7), now=0.0)
    assert "c" in t.update(body(c=0, d=8), now=1.0).resets
    assert "c" in t.update(body(c=3, d=9), now=5.0).resets  # still marked
    assert "c" not in t.update(body(c=6, d=10), now=12.0).resets  # then its rate again
    t.update(body(c=50, d=11), now=13.0)
    t.gap()  # the source stopped answering; it comes back restarted
    snap = t.update(body(c=2, d=11), now=20.0)
    assert snap.resets == {"c"} and not snap.rates  # d did not go down: no reset, no rate across the gap


def test_a_counter_written_again_after_the_first_answer_of_a_restart_is_a_reset_too():
    """A restarted Envoy answers before its clusters come over xDS: their counters appear a
    poll or two later, from 0 again (a busy CI machine had the first answer without them)."""
    t = StatsTracker()
    t.kinds = KINDS
    t.update(body(c=50, d=11), now=0.0)
    t.gap()
    first = t.update(body(d=0), now=10.0)  # c is not written yet
    assert first.resets == {"d"}
    later = t.update(body(c=3, d=1), now=11.0)
    assert "c" in later.resets and "c" not in later.rates
    t2 = StatsTracker()
    t2.kinds = KINDS
    t2.update(body(c=50, d=11), now=0.0)
    t2.gap()
    t2.update(body(d=12), now=10.0)
    assert "c" not in t2.update(body(c=3, d=13), now=40.0).resets  # long after the gap: a new counter


def test_names_come_and_go():
    t = StatsTracker()
    t.update(body(a=1, b=2), now=0.0)
    snap = t.update(body(a=1, c=5), now=1.0)
    assert snap.names == ("a", "c")
    assert dict(snap.values) == {"a": "1", "c": "5"}


def test_unknown_kinds_are_counted_for_a_refresh():
    t = StatsTracker()
    t.kinds = KINDS
    snap = t.update(body(c=1, newstat=4), now=0.0)
    assert snap.unknown_numeric == 1 and snap.kind("newstat") == "unknown"


def test_prefix_filter_and_envoy_regex():
    f = StatFilter("cluster.outbound|80||catalog")
    names = [
        "cluster.outbound|80||catalog.x.upstream_rq_total",
        "cluster.inbound|80||",
        "x.cluster.outbound|80||catalog",
    ]
    assert f.select(names) == names[:1]
    assert f.envoy_param() == r"^cluster\.outbound\|80\|\|catalog"
    assert re2_escape("a.b(c)") == r"a\.b\(c\)"


def test_regex_filter():
    f = StatFilter("re:upstream_rq_[25]xx$")
    assert f.is_regex and f.envoy_param() == "upstream_rq_[25]xx$"
    assert f.select(["a.upstream_rq_2xx", "a.upstream_rq_4xx", "b.upstream_rq_5xx"]) == [
        "a.upstream_rq_2xx",
        "b.upstream_rq_5xx",
    ]


def test_shown_names_keep_what_tells_rows_apart():
    from meshtui.ui.format import middle_truncate, shown_name, sparkline

    name = "cluster.outbound|80||catalog.istioinaction.svc.cluster.local.external.upstream_rq_200"
    typed = "cluster.outbound|80||catalog"
    assert shown_name(name, 30, typed) == "…" + name[-29:]
    assert shown_name(name, 200, typed) == name
    assert len(middle_truncate(name, 20)) == 20 and middle_truncate(name, 20).count("…") == 1
    # an Istio cluster's stat keeps its port and the stat's own name: two stats of the same
    # cluster (or of two ports) never read alike (at 80 columns `cluster.inbound|30…||.upstream_rq_2xx`
    # and `cluster.inbound|30…al.upstream_rq_2xx` lost the port, and the service's name)
    assert shown_name("cluster.inbound|3000||.internal.upstream_rq_2xx", 36) == (
        "…inbound|3000||.internal.…eam_rq_2xx"
    )
    assert shown_name("cluster.inbound|3000||.upstream_rq_2xx", 36) == "…inbound|3000||.upstream_rq_2xx"
    assert shown_name(name, 60) == "…outbound|80||catalog.istioinaction.external.upstream_rq_200"
    assert shown_name(name, 50) == "…outbound|80||catalog.is….external.upstream_rq_200"
    for width in range(12, 90):
        shown = shown_name(name, width)
        assert len(shown) <= width and (width < 30 or "|80|" in shown), (width, shown)
    assert sparkline([0, 2, 4], 10) == "▁▅█"
    assert sparkline([3, 3, 3], 10) == "███"  # steady is flat at its level, not noise
    assert sparkline([0, 0], 10) == "▁▁"


def test_a_body_in_parts_diffs_only_the_parts_read_again():
    t = StatsTracker()
    counters, gauges = "a.rq: 1\nb.rq: 5\n", "g.active: 3\n"
    t.update_parts((counters, gauges), 1.0)
    snap = t.update_parts(("a.rq: 4\nb.rq: 5\n", gauges), 2.0)  # gauges not read: same object
    assert dict(snap.deltas) == {"a.rq": 3} and snap.values["g.active"] == "3"
    snap = t.update_parts(("a.rq: 4\nb.rq: 5\n", "g.active: 7\n"), 3.0)
    assert dict(snap.deltas) == {"g.active": 4}
    # a stat gone from a part read again is gone; the others keep their values
    snap = t.update_parts(("a.rq: 4\n", "g.active: 7\n"), 4.0)
    assert snap.names == ("a.rq", "g.active") and "b.rq" not in snap.values
    # the same text as one body gives the same snapshot
    whole = StatsTracker()
    whole.update("a.rq: 1\nb.rq: 5\ng.active: 3\n", 1.0)
    assert dict(whole.update("a.rq: 4\nb.rq: 5\ng.active: 3\n", 2.0).deltas) == {"a.rq": 3}
