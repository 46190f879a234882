"""Mesh-wide places: the bar at the top, number keys, k9s's `:` command, ShowPod."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Static

from helpers.apps import PODS, FixedAdmin, fixed_app
from helpers.loopback import loopback_http
from helpers.wait import until
from meshtui.ui import views
from meshtui.ui.messages import OpenPlace, ShowPod
from meshtui.ui.views import Place, PlaceView, ViewStatus, resolve, resolve_tab
from meshtui.ui.widgets.places_bar import PlacesBar


@pytest.fixture()
def fixed_admin():
    with loopback_http(FixedAdmin) as url:
        yield url


class FakePlace(Static):
    """A mesh-wide pane that records what the app tells it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("a fake mesh-wide view", id=id)
        self.connected: list[object] = []
        self.active: list[bool] = []
        self.opened: list[dict] = []
        self.can_focus = True

    def connect(self, access: object) -> None:
        self.connected.append(access)

    def set_shown(self, shown: bool) -> None:
        self.active.append(shown)

    def status(self) -> ViewStatus:
        return ViewStatus("fake live")

    def on_place_opened(self, **arguments: object) -> None:
        self.opened.append(arguments)


@pytest.fixture()
def with_fake_place(monkeypatch):
    registered = (*views.PLACES, Place("fake", "Fake plane", ("fake", "fk"), lambda o: FakePlace(id="fake")))
    monkeypatch.setattr(views, "PLACES", registered)  # the one registry: one line adds a place
    assert isinstance(FakePlace(), PlaceView)
    return registered


def test_resolve_aliases_titles_and_prefixes(with_fake_place):
    assert resolve(":pods").id == "proxies"
    assert resolve("po").id == "proxies"
    assert resolve("Fake plane").id == "fake"
    assert resolve("fa").id == "fake"  # an unambiguous prefix
    assert resolve("nothing-like-it") is None
    assert resolve("  ") is None
    assert resolve_tab(":clusters") == "tab-clusters" and resolve_tab("stats") == "tab-stats"
    assert resolve_tab("pods") is None
    assert resolve_tab("clu") == "tab-clusters"  # the prefix the box suggests `clusters` for
    assert resolve_tab("c") is None  # clusters, config, or the `cp` place: ambiguous


async def test_command_mode_switches_places_and_only_the_shown_one_is_active(fixed_admin, with_fake_place):
    app = fixed_app(fixed_admin)
    async with app.run_test(size=(120, 40)) as pilot:
        fake = app.query_one(FakePlace)
        await until(lambda: app.pods._shown, 5, "pods")
        bar = app.query_one(PlacesBar)
        assert "Proxies" in str(bar.render()) and "Fake plane" in str(bar.render())
        assert app.place == "proxies" and not app.query_one("#place-fake").display
        await pilot.press("colon", *"fake", "enter")
        await until(lambda: app.place == "fake", 3, "the fake place")
        assert app.query_one("#place-fake").display and not app.query_one("#main").display
        assert fake.active[-1] is True
        assert app.status.refresh_state == "fake live"  # the status line speaks for the view shown
        assert app.focused is fake  # its keys work at once
        # an unknown word keeps the command line open and says so
        await pilot.press("colon", *"nope", "enter")
        assert app.place == "fake"
        await pilot.press("escape")
        assert app.focused is fake  # focus goes back where it was
        await pilot.press("colon", *"pods", "enter")
        await until(lambda: app.place == "proxies", 3, "back to proxies")
        assert fake.active[-1] is False
        # tab out of the command line (a shell's completion key) closes it: not left on screen
        bar_box = app.query_one("#command")
        await pilot.press("colon", *"tr", "tab")
        await until(lambda: not bar_box.display, 3, "the command line closed")


async def test_open_place_passes_arguments_and_show_pod_selects(fixed_admin, with_fake_place):
    app = fixed_app(fixed_admin)
    async with app.run_test(size=(120, 40)) as pilot:
        fake = app.query_one(FakePlace)
        await until(lambda: app.pods.selected, 5, "first selection")
        app.post_message(OpenPlace("fake", {"service": "catalog"}))
        await until(lambda: fake.opened, 3, "opened")
        assert fake.opened == [{"service": "catalog"}] and app.place == "fake"
        target = PODS[1]
        app.post_message(ShowPod(target.namespace, target.name, tab="tab-clusters"))
        await until(lambda: app.place == "proxies", 3, "proxies")
        await until(lambda: app.pods.selected.name == target.name, 3, "pod selected")
        assert app.query_one("#views").active == "tab-clusters"
        await pilot.pause()


async def test_places_are_told_there_is_no_cluster_under_admin(fixed_admin, with_fake_place):
    from meshtui.ui.app import MeshtuiApp, Options

    app = MeshtuiApp(Options(admin=fixed_admin, interval=3600))
    async with app.run_test(size=(120, 40)):
        fake = app.query_one(FakePlace)
        await until(lambda: fake.connected, 3, "connect")
        assert fake.connected == [None]


async def test_colon_names_a_tab_and_show_pod_drops_another_pods_filter(fixed_admin, with_fake_place):
    app = fixed_app(fixed_admin)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: app.pods.selected, 5, "first selection")
        await pilot.press("colon", *"fake", "enter")
        await until(lambda: app.place == "fake", 3, "the fake place")
        await pilot.press("colon", *"clusters", "enter")
        await until(lambda: app.place == "proxies", 3, "back in proxies")
        assert app.query_one("#views").active == "tab-clusters"
        await until(
            lambda: app.focused is not None and "tab-clusters" in str(app.focused.ancestors), 3, "focus"
        )
        app.stats.show_filter("cluster.outbound|80||catalog")
        target = PODS[1]
        app.post_message(ShowPod(target.namespace, target.name))
        await until(lambda: app.pods.selected.name == target.name, 3, "pod selected")
        assert app.stats.table.filter.text == ""


def test_every_registered_view_speaks_its_protocol():
    """One registry (ui/views.py): each tab is a PodView, each place a PlaceView."""
    from meshtui.ui.options import Options
    from meshtui.ui.views import POD_TABS, PodView

    options = Options()
    assert all(isinstance(tab.make(options), PodView) for tab in POD_TABS)
    assert all(isinstance(p.make(options), PlaceView) for p in views.PLACES if p.make is not None)
    assert {t.pane_id for t in POD_TABS} == {"tab-stats", "tab-clusters", "tab-config", "tab-proxy"}


async def test_the_first_frame_waits_for_no_hidden_view_and_a_place_key_waits_for_its_place(
    fixed_admin, monkeypatch
):
    """Cold start (bench/coldstart.py): the hidden tabs and the places are mounted after the
    first frame. Held there, the first frame is already up; `2` pressed meanwhile opens the
    Control plane once it is mounted, not the Proxies place by mistake."""
    from textual.app import App

    release = asyncio.Event()
    app = fixed_app(fixed_admin)
    start = app._start

    async def held_start() -> None:
        await release.wait()
        await start()

    monkeypatch.setattr(app, "_start", held_start)
    async with App.run_test(app, size=(120, 40)) as pilot:  # Textual's own: not waiting for the rest
        await pilot.pause()
        assert app.stats.is_mounted and not app.query("ClustersPane")
        await until(lambda: app.query("FooterKey"), 5, "the footer's keys")  # the whole first frame
        await pilot.press("2")
        assert app.place == "proxies" and not app.started.is_set()
        release.set()
        await until(lambda: app.place == "istiod", 10, "the Control plane, once mounted")
        assert app.query("ClustersPane") and app.query("IstiodPane")
