"""Every input checked: each bad flag, argument, file or kubeconfig is one line and exit 2.

Run in-process through `meshtui.cli.main` (the same code as the `meshtui` script, without
a Python start per case); the live cases read the demo's real Envoys and API server.
"""

from __future__ import annotations

import json

import pytest

from helpers.wait import until
from meshtui.cli import main
from meshtui.ui.app import MeshtuiApp, Options


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's exits go through OneLineParser.error
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_exit_2(capsys, *argv: str) -> str:
    code, _out, err = run(capsys, *argv)
    assert code == 2, (argv, err)
    assert err.endswith("\n") and err.count("\n") == 1, (argv, err)
    assert "Traceback" not in err and err.startswith("meshtui: "), err
    return err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("--interval", "nan"), "not a finite number"),
        (("--interval", "inf"), "not a finite number"),
        (("--interval", "-1"), "at least 0.2"),
        (("--interval", "soon"), "not a number of seconds"),
        (("demo", "--interval", "nan"), "not a finite number"),
        (("demo", "--rate", "nan"), "not a finite number"),
        (("demo", "--rate", "-3"), "0 (none) or more"),
        (("demo", "--sampling", "inf"), "not a finite number"),
        (("demo", "--sampling", "120"), "0 to 100"),
        (("--admin", "ftp://127.0.0.1:15000"), "not an http:// or https:// URL"),
        (("--admin", "http://"), "no host"),
        (("--admin", "127.0.0.1:99999"), "out of range"),
        (("stats", "--admin", "file:///etc/passwd"), "not an http:// or https:// URL"),
        (("traces", "--jaeger-url", "ftp://x"), "not an http:// or https:// URL"),
        (("traces", "--limit", "0"), "at least 1"),
        (("traces", "--limit", "many"), "not a whole number"),
        (("stats", "--file", "x.txt", "--admin", "127.0.0.1:15000"), "--file and --admin given together"),
        (("stats", "webapp-1", "-n", "ns", "--file", "x.txt"), "--file and a pod given together"),
        (("clusters", "webapp-1", "-n", "ns", "--admin", "127.0.0.1:1"), "a pod and --admin given together"),
        (("config", "--section", "nope", "--file", "x"), "invalid choice"),
    ],
)
def test_bad_flag_is_one_line_and_exit_2(capsys, argv, says):
    assert says in one_line_exit_2(capsys, *argv)


@pytest.mark.parametrize(
    ("command", "body", "says"),
    [
        (("stats",), "", "is empty"),
        (("stats",), "   \n\n", "is empty"),
        (("stats",), "cluster.a.upstream_rq_total 5\n", "not an Envoy /stats body"),
        (("stats",), '{"stats": [{"name": 1, "value": 2}]}', "not an Envoy /stats body"),
        (("clusters",), "", "is empty"),
        (("clusters",), '{"cluster_statuses": [[]]}', "malformed cluster entry"),
        (("clusters",), '{"cluster_statuses": "none"}', "no cluster_statuses"),
        (("config", "--section", "clusters"), "", "is empty"),
        (("config", "--section", "clusters"), '{"configs": {}}', "no 'configs' list"),
        (
            ("config", "--section", "clusters"),
            '{"configs": [{"@type": "x.ClustersConfigDump", "static_clusters": 3}]}',
            "malformed",
        ),
    ],
)
def test_bad_file_is_one_line_and_exit_2(capsys, tmp_path, command, body, says):
    path = tmp_path / "body"
    path.write_text(body)
    assert says in one_line_exit_2(capsys, *command, "--file", str(path))


@pytest.mark.parametrize(
    ("kubeconfig", "says"),
    [
        ("clusters: [", "not valid YAML"),
        ("", "is empty: no cluster, user or context"),
        ("[]", "not a kubeconfig"),
        ("just words", "not a kubeconfig"),
        (json.dumps({"contexts": [], "current-context": ""}), "Invalid kube-config"),
    ],
)
def test_bad_kubeconfig_is_one_line_and_exit_2(capsys, tmp_path, kubeconfig, says):
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig)
    assert says in one_line_exit_2(
        capsys, "stats", "catalog-1", "-n", "istioinaction", "--kubeconfig", str(path)
    )


async def test_bad_kubeconfig_shows_at_once_in_the_tui(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text("clusters: [")
    app = MeshtuiApp(Options(kubeconfig=str(path)))
    async with app.run_test(size=(120, 40)):
        state = app.pods.query_one("#pods-state")
        await until(lambda: "not valid YAML" in str(state.render()), 5, "the reason on screen")
        assert state.has_class("error")


def test_wrong_context_is_one_line(capsys, mesh):
    err = one_line_exit_2(
        capsys, "stats", "x", "-n", "istioinaction", "--kubeconfig", mesh.kubeconfig, "--context", "nope"
    )
    assert "context 'nope' is not in" in err


def test_pod_without_sidecar_says_so(capsys, mesh):
    istiod = mesh.info["pods"]["istiod"]
    err = one_line_exit_2(
        capsys, "stats", istiod["name"], "-n", istiod["namespace"], "--kubeconfig", mesh.kubeconfig
    )
    assert "has no istio-proxy sidecar" in err


def test_missing_pod_says_so(capsys, mesh):
    err = one_line_exit_2(
        capsys, "clusters", "no-such-pod", "-n", "istioinaction", "--kubeconfig", mesh.kubeconfig
    )
    assert "no-such-pod" in err and "not found" in err


def test_host_port_admin_is_taken_as_http(capsys, mesh):
    host_port = mesh.info["admin"]["webapp"].removeprefix("http://")
    code, out, err = run(capsys, "stats", "--admin", host_port, "--prefix", "server.live", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["name"] == "server.live"


def test_envoy_error_answer_is_shown_whole_on_one_line(capsys, mesh):
    # a lookahead is a fine Python regex but not RE2: the real Envoy answers 400 with its reason
    err = one_line_exit_2(
        capsys, "stats", "--admin", mesh.info["admin"]["webapp"], "--prefix", "re:(?=cluster)"
    )
    assert "answered 400" in err and "regex" in err.lower(), err


def test_a_file_that_is_no_kubeconfig_says_what_is_wrong_with_it(capsys, tmp_path):
    """`--kubeconfig /etc/passwd` said `'str' object does not support item assignment`."""
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n")
    err = one_line_exit_2(capsys, "stats", "x", "-n", "y", "--kubeconfig", str(passwd))
    assert "is not a kubeconfig: a YAML mapping with clusters, contexts and users was expected" in err
    assert "object" not in err
    listy = tmp_path / "kubeconfig"
    listy.write_text("clusters: {a: 1}\n")
    err = one_line_exit_2(capsys, "stats", "x", "-n", "y", "--kubeconfig", str(listy))
    assert "its clusters are a mapping, not a list" in err


def test_a_bad_flag_points_to_its_subcommands_help(capsys):
    assert one_line_exit_2(capsys, "stats", "--bogus").rstrip().endswith("(meshtui stats --help)")
    err = one_line_exit_2(capsys, "config", "--section", "nope", "--file", "x")
    assert err.rstrip().endswith("(meshtui config --help)") and "'tracing'" in err
    assert one_line_exit_2(capsys, "--bogus").rstrip().endswith("(meshtui --help)")
