"""/config_dump sections on the istioctl captures and on the demo's real Envoy."""

from __future__ import annotations

import json

import pytest

from helpers.cli import meshtui
from meshtui.envoy.config_dump import SECTIONS, parse_config_dump, redact, rows, tracing_of

CAPTURES = ("productpage-v1-c7765c886-v99jb.json", "istio-ingressgateway-5bf6c9887-vvvmj.json")


@pytest.mark.parametrize("capture", CAPTURES)
@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_of_the_captures(fixtures, capture, section):
    path = fixtures / "upstream" / "istio" / capture
    r = meshtui("config", "--file", str(path), "--section", section, "--json")
    assert r.returncode == 0, r.stderr
    found = json.loads(r.stdout)
    assert all(not k.startswith("_") for row in found for k in row)
    if section in ("secrets", "endpoints", "ecds"):
        assert found == []  # these captures carry no SDS secrets, no EDS and no ECDS section
    else:
        assert found, section
    text = meshtui("config", "--file", str(path), "--section", section)
    assert text.returncode == 0 and text.stdout.splitlines()[0].isupper()


def test_capture_contents(fixtures):
    doc = parse_config_dump((fixtures / "upstream" / "istio" / CAPTURES[0]).read_text())
    clusters = {r["name"]: r for r in rows(doc, "clusters")}
    reviews = clusters["outbound|9080|v2|reviews.default.svc.cluster.local"]
    assert (reviews["service"], reviews["port"], reviews["subset"], reviews["state"]) == (
        "reviews.default.svc.cluster.local",
        9080,
        "v2",
        "dynamic_active".replace("dynamic_", ""),
    )
    assert reviews["version"] == "2019-10-21T14:42:37Z/10"
    routes = rows(doc, "routes")
    assert any(r["destination"] == "outbound|9080||details.default.svc.cluster.local" for r in routes)
    boot = {r["key"]: r["value"] for r in rows(doc, "bootstrap")}
    assert boot["node.metadata.POD_NAME"] == "productpage-v1-c7765c886-v99jb"
    assert tracing_of(doc["configs"][0]["bootstrap"])["collector_cluster"] == "zipkin"


def test_private_keys_are_redacted_again():
    doc = {"configs": [{"secret": {"tls_certificate": {"private_key": {"inline_bytes": "c2VjcmV0"}}}}]}
    assert "c2VjcmV0" not in json.dumps(redact(doc))


def test_live_demo_sections(mesh):
    admin = mesh.info["admin"]["webapp"]
    for section in SECTIONS:
        r = meshtui("config", "--admin", admin, "--section", section, "--json")
        assert r.returncode == 0, r.stderr
        assert "BEGIN PRIVATE KEY" not in r.stdout and "[redacted" not in r.stdout
    secrets = json.loads(meshtui("config", "--admin", admin, "--section", "secrets", "--json").stdout)
    default = next(s for s in secrets if s["name"] == "default")
    assert default["spiffe_id"] == "spiffe://cluster.local/ns/istioinaction/sa/webapp"
    assert default["issuer"] == "O=cluster.local" and default["expires_in"].endswith("m")
    boot = json.loads(meshtui("config", "--admin", admin, "--section", "bootstrap", "--json").stdout)
    assert {"key": "node.metadata.NAME", "value": "webapp-7685bcb84-hxpqj"} in boot


def test_tracing_section_headless_as_in_the_config_tab(fixtures, mesh):
    """The TUI's Config tab has a tracing section; `config --section` had not."""
    capture = fixtures / "upstream" / "istio" / CAPTURES[0]
    saved = json.loads(meshtui("config", "--file", str(capture), "--section", "tracing", "--json").stdout)
    checks = {r["check"]: r for r in saved}
    assert checks["collector cluster"]["value"] == "zipkin"
    # a saved dump has no counters: said so, not "no reports yet"
    assert "live sidecar" in checks["span reports by status"]["verdict"]
    live = meshtui("config", "--admin", mesh.info["admin"]["webapp"], "--section", "tracing", "--json")
    assert live.returncode == 0, live.stderr
    rows_ = {r["check"]: r for r in json.loads(live.stdout)}
    assert rows_["span reports by status"]["verdict"] in ("ok", "no reports yet")
    text = meshtui("config", "--admin", mesh.info["admin"]["webapp"], "--section", "tracing")
    assert text.returncode == 0 and text.stdout.startswith("CHECK")


def test_bad_config_input(tmp_path):
    f = tmp_path / "x.json"
    for body in ("nope", '{"configs": 3}', "{}"):
        f.write_text(body)
        r = meshtui("config", "--file", str(f), "--section", "clusters")
        assert r.returncode == 2 and r.stderr.count("\n") == 1
    r = meshtui("config", "--file", str(f), "--section", "everything")
    assert r.returncode == 2  # argparse: not a section


def test_sampling_from_the_listeners(fixtures):
    from meshtui.envoy.config_dump import sampling_of

    doc = parse_config_dump((fixtures / "upstream" / "istio" / CAPTURES[0]).read_text())
    assert sampling_of(doc) == [1.0]  # Istio's default 1% in that capture
