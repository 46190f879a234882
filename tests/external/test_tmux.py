"""meshtui in tmux at 80x24 over the demo mesh: readable, the copy key's OSC 52 reaches tmux.

tmux runs on its own socket (-L) with its own config (TERM tmux-256color inside, and
`set-clipboard on`, so an application's OSC 52 sets tmux's paste buffer); the server is
killed in teardown, also on failure.
"""

from __future__ import annotations

import re
import shutil

import pytest

from helpers.mesh import pod_name
from helpers.tmux import start
from helpers.wait import wait_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def test_80x24_in_tmux_and_copy_goes_through_osc52(tmux, mesh, tmp_path):
    start(tmux, mesh, tmp_path)
    webapp = pod_name(mesh, "webapp")
    screen = wait_for(lambda: webapp in (s := tmux.screen()) and s, 30, "the pods list in tmux")
    assert len(screen.splitlines()) <= 24 and all(len(line) <= 80 for line in screen.splitlines())
    assert "Traceback" not in screen

    # the pods list has the focus; the cursor is on the first row: copy it
    tmux.keys("c")
    copied = wait_for(lambda: tmux.buffer(), 10, "tmux's buffer set by OSC 52")
    pod, _ready, status = copied.split("\t")[:3]
    assert pod in tmux.screen() and status == "Running"  # the row under the cursor, as text

    # select webapp's pod with the keys alone: its stats show in 80 columns
    rows = [line for line in tmux.screen().splitlines() if re.search(r"\d+/\d+\s+Running", line)]
    tmux.keys(*["Up"] * 8)  # to the first row, then down to webapp's
    tmux.keys(*["Down"] * next(i for i, line in enumerate(rows) if webapp in line), "Enter")
    tmux.wait(f"from {webapp}:15000", 20, "webapp's stats in tmux")

    # Tab to the stats table (its keys show in the footer): no mouse needed. The selected stat
    # copies as "name value".
    def footer() -> str:
        return tmux.screen().splitlines()[-1]

    for _ in range(8):
        if "Pause" in footer():
            break
        before = footer()
        tmux.keys("Tab")
        wait_for(lambda b=before: footer() != b, 3, "the focus to move")
    assert "Pause" in footer()  # the stats table has the focus (the filter box shows only "/ Filter")
    tmux.run("delete-buffer")
    tmux.keys("c")
    copied = wait_for(lambda: tmux.buffer(), 10, "a stat copied")
    name, value = copied.split(" ")
    assert value.strip() and value.strip().replace(".", "", 1).isdigit(), value  # its value
    assert re.match(r"^(cluster|listener|server|http|tcp|cluster_manager|listener_manager)\.", name), name
    shown = tmux.screen()
    assert name[:18] in shown and "copied" in shown


def test_no_color_in_tmux(tmux, mesh, tmp_path):
    start(tmux, mesh, tmp_path, NO_COLOR="1")
    webapp = pod_name(mesh, "webapp")
    wait_for(lambda: webapp in tmux.screen(), 30, "the pods list in tmux")
    colors = _colors(tmux.screen(escapes=True))
    assert colors, "capture-pane -e shows the styles"
    # Textual's monochrome filter: greys only (without NO_COLOR this screen has ~30 colours)
    assert all(r == g == b for r, g, b in colors), sorted(set(colors))[:5]


# xterm's 256 colours: 16 system colours, a 6x6x6 cube, 24 greys
_SYSTEM = [(0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128), (128, 0, 128), (0, 128, 128)]
_SYSTEM += [(192, 192, 192), (128, 128, 128), (255, 0, 0), (0, 255, 0), (255, 255, 0), (0, 0, 255)]
_SYSTEM += [(255, 0, 255), (0, 255, 255), (255, 255, 255)]
_CUBE = [0, 95, 135, 175, 215, 255]


def _xterm(n: int) -> tuple[int, int, int]:
    if n < 16:
        return _SYSTEM[n]
    if n < 232:
        n -= 16
        return _CUBE[n // 36], _CUBE[(n // 6) % 6], _CUBE[n % 6]
    grey = 8 + (n - 232) * 10
    return grey, grey, grey


def _colors(text: str) -> list[tuple[int, int, int]]:
    """Every foreground/background colour in the SGR sequences of a capture."""
    out = []
    for params in re.findall(r"\x1b\[([0-9;]*)m", text):
        p = [int(x) if x else 0 for x in params.split(";")]
        i = 0
        while i < len(p):
            if p[i] in (38, 48) and i + 1 < len(p) and p[i + 1] == 5:
                out.append(_xterm(p[i + 2]))
                i += 3
            elif p[i] in (38, 48) and i + 1 < len(p) and p[i + 1] == 2:
                out.append((p[i + 2], p[i + 3], p[i + 4]))
                i += 5
            else:
                if 30 <= p[i] <= 37 or 40 <= p[i] <= 47:
                    out.append(_SYSTEM[p[i] % 10])
                elif 90 <= p[i] <= 97 or 100 <= p[i] <= 107:
                    out.append(_SYSTEM[8 + p[i] % 10])
                i += 1
    return out


def test_every_tab_and_place_is_reachable_and_readable_at_80x24(tmux, mesh, tmp_path):
    start(tmux, mesh, tmp_path)
    catalog = pod_name(mesh, "catalog")
    tmux.wait(catalog, 30, "the pods list in tmux")
    rows = [line for line in tmux.screen().splitlines() if re.search(r"\d+/\d+\s+Running", line)]
    tmux.keys(*["Up"] * 8)
    tmux.keys(*["Down"] * next(i for i, line in enumerate(rows) if catalog in line), "Enter")
    tmux.wait(f"from {catalog}:15000", 20, "catalog's stats")
    # Tab to the tab strip (no mouse), then Right through Clusters, Config and Proxy
    for _ in range(8):
        before = tmux.screen().splitlines()[-1]
        tmux.keys("Tab")
        wait_for(lambda b=before: tmux.screen().splitlines()[-1] != b, 3, "the focus to move")
        tmux.keys("Right")
        try:
            wait_for(lambda: "SERVICE FQDN" in tmux.screen(), 1.5, "the clusters tab")
            break
        except AssertionError:
            continue
    screen = tmux.wait("endpoints of", 10, "the clusters tab with endpoints")
    assert re.search(r"inbound\|\d+\|\|", screen) and "HEALTHY" in screen
    tmux.keys("Right")
    screen = tmux.wait("listeners  routes", 10, "the config tab")
    assert "rows" in screen
    tmux.keys("Right")
    screen = tmux.wait(f"loggers on {catalog}:15000", 10, "the proxy tab")
    assert "LOGGER" in screen and "LEVEL" in screen
    assert len(screen.splitlines()) <= 24 and all(len(line) <= 80 for line in screen.splitlines())
    assert "Traceback" not in screen

    # the Control plane place: its number key, the demo istiod read through a port-forward
    tmux.keys("2")
    screen = tmux.wait("proxies 3", 20, "the control plane place")
    assert "Control plane" in screen and "istio-system" in screen and "Proxy sync" in screen
    assert all(len(line) <= 80 for line in screen.splitlines()) and "Traceback" not in screen
    tmux.keys("1")
    tmux.wait(f"loggers on {catalog}:15000", 10, "back on the Proxies place")

    # every other place by its number key, each readable at 80x24
    for key, shows in (
        ("3", "services in Jaeger"),
        ("4", "s starts the load"),
        ("5", "replica(s)"),
        ("6", "Prometheus"),
        ("7", "recording since"),
    ):
        tmux.keys(key)
        screen = tmux.wait(shows, 20, f"place {key}")
        assert all(len(line) <= 80 for line in screen.splitlines()) and "Traceback" not in screen
        assert len(screen.splitlines()) <= 24
    tmux.keys("1")
    tmux.wait(f"loggers on {catalog}:15000", 10, "back on the Proxies place")
