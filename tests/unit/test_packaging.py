"""The wheel ships the styles, and an installed wheel finds them (not only a checkout)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from helpers.mesh import ROOT


def test_wheel_ships_and_finds_the_styles(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        timeout=120,
    )
    wheel = next(tmp_path.glob("meshtui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "meshtui/styles/meshtui.tcss" in names
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        timeout=120,
    )
    r = subprocess.run(
        [sys.executable, "-c", "from meshtui.ui.app import styles_path; print(styles_path())"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": ""},
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith(str(target)), r.stdout


def test_version_and_help():
    r = subprocess.run([sys.executable, "-m", "meshtui", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("meshtui ")
    r = subprocess.run([sys.executable, "-m", "meshtui", "--help"], capture_output=True, text=True)
    for flag in (
        "--kubeconfig",
        "--context",
        "--namespace",
        "--admin",
        "--interval",
        "--read-only",
        "--filter",
    ):
        assert flag in r.stdout
    r = subprocess.run([sys.executable, "-m", "meshtui", "--interval", "0.1"], capture_output=True, text=True)
    assert r.returncode == 2 and "at least 0.2" in r.stderr


def test_first_frame_does_not_wait_for_the_kubernetes_client():
    r = subprocess.run(
        [sys.executable, "-c", "import sys, meshtui.ui.app; print('kubernetes' in sys.modules)"],
        capture_output=True,
        text=True,
    )
    assert r.stdout.strip() == "False", r.stderr


def test_demo_takes_the_tui_options_after_the_command():
    from meshtui.cli import build_parser

    args = build_parser().parse_args(["demo", "--read-only", "--interval", "0.5", "--filter", "cluster."])
    assert (args.read_only, args.interval, args.filter) == (True, 0.5, "cluster.")
    args = build_parser().parse_args(["--read-only", "demo"])
    assert args.read_only and args.interval is None  # the config file's, else 1 s (ui/options.py)
