"""`meshtui config --diff` and the config history's changes, on config dumps built from the
shared captures (../shared/fixtures/upstream/istio): each edit gives the change expected,
in Envoy's and Istio's words; the same dump with its keys reordered, or only its versions
and timestamps moved, gives nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from helpers.cli import meshtui
from meshtui.envoy.config_changes import CLUSTERS, ROUTES, config_changes

ROUTE = "route 9080 / vhost details.default.svc.cluster.local:9080 / route default"


@pytest.fixture
def dump(fixtures: Path) -> dict[str, Any]:
    return json.loads((fixtures / "upstream" / "istio" / "productpage-v1-c7765c886-v99jb.json").read_text())


def reordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reordered(v) for v in value]
    return value


def section(doc: dict[str, Any], type_url: str) -> dict[str, Any]:
    return next(c for c in doc["configs"] if c.get("@type") == type_url)


def details_route(doc: dict[str, Any]) -> dict[str, Any]:
    for item in section(doc, ROUTES)["dynamic_route_configs"]:
        config = item["route_config"]
        if config.get("name") == "9080":
            for vhost in config["virtual_hosts"]:
                if vhost["name"] == "details.default.svc.cluster.local:9080":
                    return vhost["routes"][0]
    raise AssertionError("the details route is in the capture")


def test_the_same_dump_reordered_or_only_newer_versions_is_no_change(dump):
    assert config_changes(dump, reordered(dump)) == []
    newer = copy.deepcopy(dump)
    for item in section(newer, ROUTES)["dynamic_route_configs"]:
        item["version_info"], item["last_updated"] = "2099-01-01T00:00:00Z/99", "2099-01-01T00:00:00Z"
    assert config_changes(dump, newer) == []


def test_route_retries_timeout_and_clusters_added_and_removed(dump):
    new = copy.deepcopy(dump)
    route = details_route(new)
    route["route"]["retry_policy"]["num_retries"] = 4
    route["route"]["timeout"] = "7s"
    clusters = section(new, CLUSTERS)["dynamic_active_clusters"]
    gone = clusters.pop(0)["cluster"]["name"]
    added = copy.deepcopy(clusters[0])
    added["cluster"]["name"] = "outbound|9080||ratings.other.svc.cluster.local"
    clusters.append(added)
    lines = [c.line() for c in config_changes(dump, new)]
    assert lines == sorted(lines)  # in resource name order
    assert f"cluster {gone}: removed" in lines
    assert "cluster outbound|9080||ratings.other.svc.cluster.local: added" in lines
    assert f"{ROUTE}: retries 2 -> 4, timeout 0s -> 7s" in lines
    assert len(lines) == 3


def test_no_retry_policy_is_no_retries_and_one_without_a_count_is_envoys_default(dump):
    none, default = copy.deepcopy(dump), copy.deepcopy(dump)
    del details_route(none)["route"]["retry_policy"]
    del details_route(default)["route"]["retry_policy"]["num_retries"]
    (c,) = config_changes(none, dump)
    assert c.fields[0] == ("retries", 0, 2)
    (c,) = config_changes(default, dump)
    assert c.line() == f"{ROUTE}: retries 1 -> 2"


def test_the_command_prints_them_and_json(dump, tmp_path):
    new = copy.deepcopy(dump)
    details_route(new)["route"]["timeout"] = "3s"
    (tmp_path / "old.json").write_text(json.dumps(dump))
    (tmp_path / "new.json").write_text(json.dumps(new))
    (tmp_path / "same.json").write_text(json.dumps(reordered(dump)))
    r = meshtui("config", "--diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"))
    assert r.returncode == 0 and r.stdout.strip() == f"{ROUTE}: timeout 0s -> 3s", r.stderr
    r = meshtui("config", "--diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--json")
    assert json.loads(r.stdout) == [
        {"resource": ROUTE, "change": "changed", "fields": [{"path": "timeout", "old": "0s", "new": "3s"}]}
    ]
    r = meshtui("config", "--diff", str(tmp_path / "old.json"), str(tmp_path / "same.json"))
    assert r.returncode == 0 and r.stdout.strip() == "no change"
    (tmp_path / "bad.json").write_text("[1, 2]")
    r = meshtui("config", "--diff", str(tmp_path / "old.json"), str(tmp_path / "bad.json"))
    assert r.returncode == 2 and r.stderr.strip().endswith("not a /config_dump (no configs list)")
