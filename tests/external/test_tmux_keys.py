"""At 80x24 in tmux, keys only, as a user would: filters, help, tabs; `?` and `q` stay in sight."""

from __future__ import annotations

import re
import shutil

import pytest

from helpers.mesh import pod_name
from helpers.tmux import start
from helpers.wait import wait_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def test_filters_help_and_tabs_by_keys_at_80x24(tmux, mesh, tmp_path):
    start(tmux, mesh, tmp_path)
    webapp = pod_name(mesh, "webapp")
    tmux.wait(webapp, 30, "the pods list")

    def footer() -> str:
        return tmux.screen().splitlines()[-1]

    assert "?" in footer() and "q" in footer().split("?")[0] + footer()

    # the pods filter: typing narrows the list, the rows stay in sight while the box is open
    tmux.keys("/")
    tmux.wait("filter pods", 5, "the pods filter box")  # a user sees the box, then types
    tmux.keys(*"webapp")

    def pod_rows() -> list[str]:
        return [line for line in tmux.screen().splitlines() if re.search(r"\d+/\d+\s+Running", line)]

    try:
        wait_for(lambda: pod_rows() and all("webapp" in line for line in pod_rows()), 5, "the pods filter")
    except AssertionError:
        raise AssertionError(tmux.screen()) from None
    # emptied and entered, the box lets go and closes (ESC then a key within tmux's
    # escape-time would read as one Alt key: a user pauses, a test waits for the screen)
    tmux.keys(*["BSpace"] * 6, "Enter")
    wait_for(lambda: "filter pods" not in tmux.screen() and len(pod_rows()) >= 3, 5, "the box closed")
    rows = pod_rows()
    tmux.keys(*["Up"] * 8)
    tmux.keys(*["Down"] * next(i for i, line in enumerate(rows) if webapp in line), "Enter")
    screen = tmux.wait(f"from {webapp}:15000", 20, "webapp's stats")
    assert "▶ " + webapp[:20] in screen  # the pod whose views are shown is marked
    wait_for(lambda: "Pause" in footer(), 5, "the stats table has the keys")

    # help for where you are: the stats keys, then back
    # (the main screen's footer shows under the help: its own title says it is up)
    tmux.keys("?")
    screen = tmux.wait("keys where you are now", 5, "the help screen")
    assert "Filter stats" in screen  # the keys of where you are (the stats table)
    tmux.keys("Escape")
    wait_for(lambda: "keys where you are now" not in tmux.screen(), 5, "help closed")
    wait_for(lambda: "Pause" in footer(), 5, "the table keeps the keys")

    # editing keys in a burst (a paste, tmux, a fast typist) act in the order typed: ctrl+u
    # then text left the box empty (Textual ran ctrl+u after the keys behind it)
    tmux.wait("filter: name prefix, or re:REGEX", 5, "the stats view, help gone")
    # `/` and the text in one burst (a paste): the keys after `/` go to the box it opened
    tmux.keys("/", *"upstream_rq")
    tmux.wait("upstream_rq ", 5, "the filter typed")
    tmux.keys("C-u", *"re:fault|_503")
    tmux.wait("re:fault|_503", 5, "the text typed after ctrl+u")
    tmux.keys("BSpace", "BSpace", "BSpace", *"40", "Left", "5")
    tmux.wait("re:fault|_450 ", 5, "backspace, left and the keys between them in order")
    tmux.keys("C-u", "Enter")
    wait_for(lambda: "re:fault" not in tmux.screen() and "Pause" in footer(), 5, "the filter emptied")
    # `:` and a view's name in one burst: the name lands in the command line `:` opened
    tmux.keys(":", *"config", "Enter")
    tmux.wait("filter rows: any text", 5, "`:config` typed in one burst")
    tmux.keys(":", *"stats", "Enter")
    wait_for(lambda: "Pause" in footer(), 15, "`:stats`: back on the stats table")  # a busy CI machine

    # every line fits and the footer keeps ? and q
    screen = tmux.screen()
    assert all(len(line) <= 80 for line in screen.splitlines()) and len(screen.splitlines()) <= 24
    assert "?" in footer()


def test_a_filter_and_its_enters_in_one_burst_at_80x24(tmux, mesh, tmp_path):
    """`/webapp` enter enter typed fast (as k9s users do): the first enter leaves the box,
    the second shows the pod. The second went to the box too: nothing was shown."""
    start(tmux, mesh, tmp_path)
    webapp = pod_name(mesh, "webapp")  # not the pod shown at start (catalog, the first app)
    tmux.wait(webapp, 30, "the pods list")
    wait_for(lambda: "Filter pods" in tmux.screen().splitlines()[-1], 5, "the pods list has the keys")
    assert f"▶ {webapp}" not in tmux.screen()
    tmux.keys("/", *"webapp", "Enter", "Enter")
    tmux.wait(f"▶ {webapp}", 20, "webapp shown, from one burst")
    tmux.wait(f"from {webapp}:15000", 20, "its stats")
