"""`meshtui istiod` and `meshtui syncz`: from the captures, and live through a port-forward."""

from __future__ import annotations

import json
import re

import pytest

from helpers.istiod_fake import SEED_METRICS, SYNCZ, fake_istiod, port_of, sim_cluster
from meshtui.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_istiod_file_json_done_when_figures(capsys):
    code, out, err = run(capsys, "istiod", "--file", str(SEED_METRICS), "--json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["connected_proxies"] == {"1.17.8": 3} and doc["connected_proxies_total"] == 3
    assert doc["services"] == 13 and doc["virtual_services"] == 1
    assert doc["pushes"]["eds"]["value"] == 110
    assert doc["root_cert_expiry"]["timestamp"] == 2061605423
    assert doc["root_cert_expiry"]["utc"] == "2035-05-01T04:10:23Z"
    assert doc["validation_failed"]["value"] == 1
    for figure in ("proxy_convergence_seconds", "push_time_seconds", "config_size_bytes"):
        assert set(doc[figure]["lifetime"]) == {"P50", "P90", "P99"}
    assert len(doc["replicas"]) == 1
    # percentiles without interpolation noise (Prometheus itself answers 0.09000000000000001)
    assert doc["proxy_convergence_seconds"]["lifetime"]["P90"] == 0.09
    assert doc["push_time_seconds"]["lifetime"]["P90"] == 0.009
    assert "00000000001" not in out
    # every sample in the first bucket: the resolution beside the interpolated figures
    assert doc["proxy_convergence_seconds"]["lifetime_buckets"] == [[0, 0.1]] * 3


def test_istiod_file_text(capsys):
    code, out, _ = run(capsys, "istiod", "--file", str(SEED_METRICS))
    assert code == 0
    assert "connected proxies: 3 on 1.17.8" in out and "eds 110" in out
    assert "root certificate expires 2035-05-01T04:10:23Z" in out
    assert "proxy convergence: P50 50.0ms P90 90.0ms P99 99.0ms (all in one bucket: <= 100ms)" in out


def test_syncz_file_one_row_per_proxy(capsys):
    code, out, _ = run(capsys, "syncz", "--file", str(SYNCZ))
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:7] == ["NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS"]
    assert len(lines) == 1 + 34
    code, out, _ = run(capsys, "syncz", "--file", str(SYNCZ), "--json")
    rows = json.loads(out)
    assert len(rows) == 34 and {r["CDS"] for r in rows} == {"SYNCED"} and rows[0]["ECDS"] == "NOT SENT"


@pytest.mark.parametrize(
    ("command", "fixture"),
    [("istiod", SYNCZ), ("syncz", SEED_METRICS), ("istiod", "/nonexistent/metrics.txt")],
)
def test_malformed_input_is_one_line_and_exit_2(capsys, command, fixture):
    code, out, err = run(capsys, command, "--file", str(fixture))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and err.startswith("meshtui: ")


def test_neither_file_nor_live(capsys):
    code, _, err = run(capsys, "syncz")
    assert code == 2 and "--file PATH or live" in err


def test_live_through_a_port_forward(capsys, tmp_path):
    with (
        fake_istiod() as istiod,
        sim_cluster(tmp_path, {"istiod-7b6f8c9d-x2x4z": port_of(istiod.url)}) as k8s,
    ):
        code, out, err = run(capsys, "istiod", "live", "--kubeconfig", str(k8s.kubeconfig), "--json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["connected_proxies_total"] == 3
        assert [r["replica"] for r in doc["replicas"]] == ["istiod-7b6f8c9d-x2x4z"]
        assert k8s.api.forward_count >= 1 and "/metrics" in istiod.requests
        code, out, err = run(capsys, "syncz", "live", "--kubeconfig", str(k8s.kubeconfig), "--json")
        assert code == 0, err
        rows = json.loads(out)
        assert len(rows) == 34 and {r["istiod"] for r in rows} == {"istiod-7b6f8c9d-x2x4z"}
        code, _, err = run(
            capsys, "istiod", "live", "--kubeconfig", str(k8s.kubeconfig), "--istio-namespace", "other"
        )
        assert code == 2 and "no running pod labelled app=istiod in other" in err


def test_live_garbage_on_15014_is_one_line(capsys, tmp_path):
    with fake_istiod() as istiod, sim_cluster(tmp_path, {"istiod-1": port_of(istiod.url)}) as k8s:
        istiod.metrics = "<html><body>502 Bad Gateway</body></html>"
        code, out, err = run(capsys, "istiod", "live", "--kubeconfig", str(k8s.kubeconfig))
        assert code == 2 and out == "" and "not Prometheus text" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("command", ["istiod", "syncz"])
def test_a_stray_word_says_what_was_expected(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--file", str(SEED_METRICS), "--rate", "3"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1
    assert f"{command}: expected 'live' or --file PATH, got '3'" in err and "invalid choice" not in err


def test_an_istiod_without_its_build_metric_says_what_is_unknown(capsys, tmp_path):
    """istio_build (or an older istiod's pilot_info) names the version; without either the line
    says so instead of `istiod ?`."""
    body = "\n".join(
        line
        for line in SEED_METRICS.read_text().splitlines()
        if not re.search(r"istio_build|pilot_info", line)
    )
    (tmp_path / "metrics.txt").write_text(body + "\n")
    code, out, _ = run(capsys, "istiod", "--file", str(tmp_path / "metrics.txt"))
    assert code == 0
    assert out.splitlines()[0].startswith("istiod (version not published: no istio_build metric)  connected")
    code, out, _ = run(capsys, "istiod", "--file", str(SEED_METRICS))
    assert out.splitlines()[0].startswith("istiod 1.17.8  connected proxies")
