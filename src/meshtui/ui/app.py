"""The meshtui app: pods on the left, the selected pod's views on the right, a status line."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, TabbedContent, TabPane

from meshtui import heap
from meshtui.kube.access import MeshAccess
from meshtui.kube.connection import ClusterConnection
from meshtui.kube.pods import PodInfo
from meshtui.ui import views
from meshtui.ui.cluster_wiring import ClusterWiring
from meshtui.ui.export import EXPORT_BINDINGS, ExportActions
from meshtui.ui.frames import PacedScreen
from meshtui.ui.keymap import preference_problems
from meshtui.ui.messages import LiveUpdate, RefreshStateChanged
from meshtui.ui.navigation import PlacesNavigation
from meshtui.ui.options import Options
from meshtui.ui.proxies.messages import SidecarPolled
from meshtui.ui.proxies.pods import PodEvents, PodsPane
from meshtui.ui.proxies.wiring import PodViewsWiring
from meshtui.ui.textual_compat import KeysFooter
from meshtui.ui.views import PROXIES, PlaceView, PodView, View
from meshtui.ui.widgets.command_bar import CommandBar
from meshtui.ui.widgets.keys import into_box
from meshtui.ui.widgets.places_bar import PlacesBar
from meshtui.ui.widgets.status import StatusLine

if TYPE_CHECKING:  # the tabs the first frame does not show are imported after it (views.py)
    from textual.pilot import Pilot

    from meshtui.envoy.live import AdminEndpoint
    from meshtui.ui.proxies.clusters import ClustersPane
    from meshtui.ui.proxies.config import ConfigPane
    from meshtui.ui.proxies.proxy import ProxyPane
    from meshtui.ui.proxies.stats import StatsPane

W = TypeVar("W", bound=Widget)

__all__ = ["MeshtuiApp", "Options", "run_app"]

NARROW = 120


def _registered(widget: Widget, kind: Any) -> Widget:
    """A view as registered in ui/views.py: it must speak its kind's protocol."""
    if not isinstance(widget, kind):
        raise TypeError(
            f"{type(widget).__name__} is registered as a {kind.__name__} but does not implement it"
        )
    return widget


def styles_path() -> Path:
    """meshtui.tcss from an installed wheel (meshtui/styles) or a source checkout (styles/)."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[1] / "styles", here.parents[3] / "styles"):
        if (candidate / "meshtui.tcss").exists():
            return candidate / "meshtui.tcss"
    raise FileNotFoundError("meshtui.tcss not found next to the package nor in the checkout")


class MeshtuiApp(ExportActions, PlacesNavigation, ClusterWiring, PodViewsWiring, App[int]):
    CSS_PATH = styles_path()
    TITLE = "meshtui"
    ENABLE_COMMAND_PALETTE = False  # `:` is the command mode (k9s's): no second, generic one
    BINDINGS = [
        Binding("question_mark", "help", "Help", tooltip="Show every key that works here", id="help"),
        Binding("q", "quit", "Quit", tooltip="Quit meshtui (port-forwards are closed)", id="quit"),
        into_box(
            Binding(
                "colon",
                "command",
                "Go to",
                tooltip="Go to a view by name, as in k9s (:istiod, :pods)",
                id="command",
            )
        ),
        # tabs switch from anywhere, not only from the tab strip (← → there)
        Binding(
            "ctrl+right",
            "tab(1)",
            "Next tab",
            show=False,
            tooltip="Next tab: Stats, Clusters, Config, Proxy",
            id="tab.1",
        ),
        Binding("ctrl+left", "tab(-1)", "Previous tab", show=False, tooltip="Previous tab", id="tab.-1"),
        *EXPORT_BINDINGS,
        *(
            Binding(
                str(i),
                f"place('{p.id}')",
                p.title,
                show=False,
                tooltip=f"Go to {p.title}",
                id=f"place.{p.id}",
            )
            for i, p in enumerate(views.PLACES, start=1)
        ),
    ]

    def __init__(
        self,
        options: Options,
        *,
        clock: Callable[[], float] = time.time,
        pod_events: PodEvents | None = None,
        endpoint_for: Callable[[PodInfo], AdminEndpoint] | None = None,
        access: MeshAccess | None = None,
    ) -> None:
        super().__init__()
        self.set_keymap(options.keys)
        self.options = options
        self.clock = clock
        self._pod_events = pod_events
        self._endpoint_for = endpoint_for
        self._access = access  # tests hand the mesh-wide places their cluster directly
        self.connection: ClusterConnection | None = None  # the cluster, once asked for (_connect)
        self._views_for: tuple[str, str] | None = None  # the pod the views are attached to
        self._focus_before_command = None
        self._found: dict[type[Widget], Widget] = {}
        self._tabs: dict[str, Widget] = {}
        self.started = asyncio.Event()  # every view mounted, the sources started (_start)

    def get_default_screen(self) -> Screen[object]:
        return PacedScreen(id="_default")  # paints a key's result without waiting for a frame

    def compose(self) -> ComposeResult:
        yield PlacesBar(views.PLACES, id="places-bar")
        with ContentSwitcher(initial="main", id="places"):
            with Horizontal(id="main"):
                yield PodsPane(clock=self.clock, id="pods")
                with TabbedContent(id="views"):
                    for tab in views.POD_TABS:
                        with TabPane(tab.title, id=tab.pane_id):
                            if tab is views.POD_TABS[0]:  # on screen at start: the others after
                                yield _registered(tab.make(self.options), PodView)
            for place in views.PLACES:
                if place.make is not None:
                    yield Container(id=f"place-{place.id}", classes="place")
        yield CommandBar(id="command")
        yield StatusLine(id="status")
        yield KeysFooter()

    @property
    def _base(self) -> Any:
        """The main screen, also while help or a confirmation is on top of it."""
        return self.screen_stack[0] if self.screen_stack else self.screen

    def _one(self, kind: type[W]) -> W:
        """A widget of the main screen, looked up once: a DOM query for each worker
        message (several per tick) took ~13% of the app's CPU at 50,000 stats."""
        found = self._found.get(kind)
        if found is None or not found.is_attached:
            found = self._found[kind] = self._base.query_one(kind)
        return cast(W, found)

    def pod_views(self) -> list[PodView]:
        """The selected pod's views, in tab order (ui/views.py POD_TABS)."""
        return [cast(PodView, self._base.get_widget_by_id(t.id)) for t in views.POD_TABS]

    def shown_view(self) -> View | None:
        """The view on screen: the Proxies place's active tab, or a mesh-wide place."""
        if self.place != PROXIES:
            return cast("View | None", self.place_widget(self.place))
        active = self.query_one("#views", TabbedContent).active
        tab = next((t for t in views.POD_TABS if t.pane_id == active), None)
        return cast(View, self._base.get_widget_by_id(tab.id)) if tab is not None else None

    def _tab(self, tab_id: str) -> Widget:
        """A pod tab's view by its id in views.py, looked up once (as `_one`)."""
        found = self._tabs.get(tab_id)
        if found is None or not found.is_attached:
            found = self._tabs[tab_id] = self._base.get_widget_by_id(tab_id)
        return found

    @property
    def stats(self) -> StatsPane:
        return cast("StatsPane", self._tab("stats"))

    @property
    def clusters(self) -> ClustersPane:
        return cast("ClustersPane", self._tab("clusters"))

    @property
    def config(self) -> ConfigPane:
        return cast("ConfigPane", self._tab("config"))

    @property
    def proxy(self) -> ProxyPane:
        return cast("ProxyPane", self._tab("proxy"))

    @property
    def pods(self) -> PodsPane:
        return self._one(PodsPane)

    @property
    def status(self) -> StatusLine:
        return self._one(StatusLine)

    def on_resize(self, event: events.Resize) -> None:
        # below 120 columns the pods go on top, so the stats keep the full width
        self.query_one("#main").set_class(event.size.width < NARROW, "narrow")

    def on_mount(self) -> None:
        # Everything imported and built so far lives as long as the app: keep it out of the
        # cyclic GC, whose full passes over it stalled keys by 50-65 ms (bench/keystroke.py).
        gc.freeze()
        # Young objects: each frame Textual paints leaves thousands (strips, their caches,
        # geometry) that only the cyclic GC frees. A young pass costs ~1 us an object, so it runs
        # every 10,000 (8-15 ms) rather than every 700 (too often) or 50,000 (30-40 ms,
        # one key in twenty paid it: bench/keystroke.py --clusters 2000).
        gc.set_threshold(10_000, 50, 100)
        self.set_interval(60, heap.trim)  # freed memory back to the system (meshtui/heap.py)
        self._apply_preferences()
        if self.options.admin:  # one sidecar, no pods list: so from the first frame on
            self.pods.display = False
            self.status.set(context="--admin", namespace="-")
        (self.stats.table if self.options.admin else self.pods.table).focus()
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        gc.enable()  # off from the command line's start (cli.py): no collection before this
        # the focused view's keys join the footer a refresh after the first frame (KeysFooter):
        # start the rest after that, and as a worker, not a callback, so the App's own
        # messages go on meanwhile
        self.call_after_refresh(self.run_worker, self._start(), exit_on_error=True)

    async def _start(self) -> None:
        """After the first frame: the views it does not show, then the sources.

        The hidden tabs and the places are two thirds of the start-up's widgets, and so of
        its CSS matching and compose; mounted before the first frame they made it 3.2x a
        minimal Textual app's (bench/coldstart.py). A place asked for meanwhile opens once
        it is there (navigation.py `go_to`).
        """
        for tab in views.POD_TABS[1:]:
            await self.query_one(f"#{tab.pane_id}").mount(_registered(tab.make(self.options), PodView))
        for place in views.PLACES:
            if place.make is not None:
                place_view = _registered(place.make(self.options), PlaceView)
                await self.query_one(f"#place-{place.id}").mount(place_view)
        self.watch(self.query_one(TabbedContent), "active", self._tab_changed)
        if self._access is not None:
            self._connect_places(self._access)
        if self.options.admin:
            from meshtui.envoy.live import DirectEndpoint

            admin_url = self.options.admin
            for view in self.pod_views():
                view.attach(lambda: DirectEndpoint(admin_url))
            self._connect_places(None)
        elif self._pod_events is not None:
            self.status.set(context="test", namespace=self.options.namespace or "")
            self.pods.watch_pods(self._pod_events)
        else:
            self._connect()  # the kubernetes client takes ~0.3 s to import: after the first frame
        self.started.set()

    @contextlib.asynccontextmanager
    async def run_test(self, *args: Any, **kwargs: Any) -> AsyncIterator[Pilot[int]]:
        """Textual's, once the views the first frame does not show are mounted too: a test,
        like a user a moment after the start, finds every view."""
        async with super().run_test(*args, **kwargs) as pilot:
            await asyncio.wait_for(self.started.wait(), 30)
            yield pilot

    def _apply_preferences(self) -> None:
        """--theme / the config file; what cannot be honoured is said in one line, not fatal."""
        problems = [self.options.config_problem] if self.options.config_problem else []
        problems += preference_problems(self.options.keys, self.options.theme, set(self.available_themes))
        if self.options.theme in self.available_themes:
            self.theme = self.options.theme
        for problem in problems:
            self.notify(problem, severity="error", timeout=12)
        if self.options.notice:
            self.notify(self.options.notice, timeout=20)

    # -- messages ----------------------------------------------------------------------

    def _shutting_down(self) -> bool:
        """A last message from a worker can arrive after the widgets are gone."""
        if not self.is_running or not self.screen_stack:
            return True
        try:
            return not (self.status.is_attached and self.pods.is_attached)
        except NoMatches:
            return True

    @on(LiveUpdate)
    def _live_update(self, message: LiveUpdate) -> None:
        if self._shutting_down():
            return
        if isinstance(message, SidecarPolled):
            self._sidecar_answered(message.update.endpoint, message.update.freshness)
        self._show_refresh_state()

    @on(RefreshStateChanged)
    def _show_refresh_state(self) -> None:
        """Live, paused, stale: what the view on screen is doing now, as it says itself; and
        what goes on elsewhere meanwhile (a load run started in the Load place)."""
        if self._shutting_down():
            return
        view = self.shown_view()
        said = [view.status().text] if view is not None else []
        for place in self._place_widgets().values():
            if place is not view and (status := place.status()).ongoing:
                said.append(status.text)
        text = "  ".join(t for t in said if t)
        if text != self.status.refresh_state:
            self.status.set(refresh_state=text)

    # -- actions -----------------------------------------------------------------------

    def action_help(self) -> None:
        from meshtui.ui.screens.help import HelpScreen, rows_from_bindings  # on the first ?

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(rows_from_bindings(dict(self.screen.active_bindings))))

    async def action_quit(self) -> None:
        # levels changed from meshtui go back before the forwards close
        for label in await self.proxy.revert_all():
            self.log(f"reverted log levels on {label}")
        if self.connection is not None:
            await self.connection.close()  # the forwards, then the SSH connection under them
        self.exit(0)


def run_app(args: Any) -> int:
    import sys

    from meshtui import settings
    from meshtui.ui.options import options_from

    loaded, problem = settings.load()
    if problem:
        print(f"meshtui: {problem}", file=sys.stderr)  # shown in the app too, once it is up
    app = MeshtuiApp(options_from(args, loaded, problem))
    result = app.run()
    return result if result is not None else (app.return_code or 0)
