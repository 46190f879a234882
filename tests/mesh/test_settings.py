"""The config file: values, flags over the file, a bad file in one line, keys and theme in the app."""

from __future__ import annotations

from pathlib import Path

from helpers.wait import until
from meshtui import settings
from meshtui.cli import build_parser
from meshtui.settings import Settings
from meshtui.ui.app import MeshtuiApp
from meshtui.ui.options import options_from
from meshtui.ui.screens.help import HelpScreen

GOOD = """\
# meshtui settings
interval = 2.5
theme = "nord"
namespace = "istioinaction"
read_only = true
export_dir = "~/exports"

[keys]
help = "f1"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "meshtui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_xdg_config_home_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert settings.config_path() == tmp_path / "meshtui" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")  # not absolute: ignored, as the spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert settings.config_path() == tmp_path / "home" / ".config" / "meshtui" / "config.toml"
    write(tmp_path, GOOD)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    loaded, problem = settings.load()
    assert problem is None
    assert loaded == Settings(2.5, "nord", "istioinaction", True, {"help": "f1"}, "~/exports")


def test_no_file_is_the_defaults(tmp_path):
    assert settings.load(tmp_path / "none.toml") == (Settings(), None)


def test_flags_win_over_the_file(tmp_path):
    loaded = settings.parse(GOOD, "c.toml")
    opts = options_from(build_parser().parse_args([]), loaded)
    assert (opts.interval, opts.theme, opts.namespace, opts.read_only) == (2.5, "nord", "istioinaction", True)
    assert opts.keys == {"help": "f1"} and opts.export_dir == "~/exports"
    args = build_parser().parse_args(["--interval", "0.5", "--theme", "dracula", "-n", "default"])
    opts = options_from(args, loaded)
    assert (opts.interval, opts.theme, opts.namespace) == (0.5, "dracula", "default")
    assert options_from(build_parser().parse_args([]), Settings()).interval == 1.0
    assert options_from(build_parser().parse_args(["demo", "--theme", "gruvbox"]), loaded).theme == "gruvbox"
    # the other flags pass through untouched
    args = build_parser().parse_args(
        ["--jaeger-url", "http://127.0.0.1:16686", "--ssh", "kind", "--filter", "http."]
    )
    opts = options_from(args, loaded)
    assert (opts.jaeger_url, opts.ssh, opts.stats_filter) == ("http://127.0.0.1:16686", "kind", "http.")


def test_bad_toml_names_the_file_and_line(tmp_path):
    path = write(tmp_path, 'interval = 2\ntheme = "nord"\nnamespace istioinaction\n')
    loaded, problem = settings.load(path)
    assert loaded == Settings()
    assert problem is not None and "\n" not in problem
    assert problem.startswith(f"config {path} line 3: ") and problem.endswith("using defaults")


def test_bad_values_name_their_line(tmp_path):
    cases = {
        'theme = "nord"\ninterval = "fast"\n': "line 2: interval must be a number",
        "interval = 0.05\n": "line 1: interval must be at least 0.2",
        "\n\nread_only = 1\n": "line 3: read_only must be true or false",
        "colour = 1\n": "line 1: unknown setting 'colour'",
        "[keys]\nhelp = 3\n": "line 2: help must be a key name",
    }
    for text, expected in cases.items():
        loaded, problem = settings.load(write(tmp_path, text))
        assert loaded == Settings() and problem is not None and expected in problem, (text, problem)


async def test_app_takes_keys_and_theme_and_says_what_is_wrong(mesh):
    args = build_parser().parse_args(["--admin", mesh.info["admin"]["webapp"], "--interval", "0.3"])
    loaded = settings.parse(GOOD + 'nosuch = "x"\n', "c.toml")  # inside [keys]: no such binding
    app = MeshtuiApp(options_from(args, loaded))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: app.stats.table.rows, 10, "stats rows")
        assert app.theme == "nord"
        await pilot.press("question_mark")  # remapped away from ? to F1
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        await until(lambda: isinstance(app.screen, HelpScreen), 3, "help on F1")
        notes = [n.message for n in app._notifications]
        assert any("no binding named nosuch" in n for n in notes)
    # a bad file: the app starts with the defaults and says so in one line
    _, problem = settings.load(Path("/nonexistent-dir/config.toml"))
    assert problem is None
    app = MeshtuiApp(
        options_from(args, Settings(), "config /x/config.toml line 3: Expected '='; using defaults")
    )
    async with app.run_test(size=(120, 40)):
        await until(lambda: app.stats.table.rows, 10, "stats rows with defaults")
        assert app.options.interval == 0.3 and not app.options.read_only
        assert any("line 3" in n.message for n in app._notifications)
