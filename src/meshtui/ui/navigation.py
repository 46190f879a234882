"""Moving between places: the bar at the top, number keys, k9s's `:` command, and the
messages that panes send to go somewhere (ShowPod, OpenPlace). Mixed into MeshtuiApp."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from textual import on
from textual.app import App
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Input, TabbedContent, TabPane

from meshtui.kube.access import MeshAccess
from meshtui.ui import views
from meshtui.ui.messages import Acted, OpenPlace, ShowPod
from meshtui.ui.proxies.clusters import ClustersPane
from meshtui.ui.proxies.pods import PodsPane
from meshtui.ui.views import PROXIES, PlaceView, PodView
from meshtui.ui.widgets.command_bar import CommandBar
from meshtui.ui.widgets.places_bar import PlacesBar

if TYPE_CHECKING:
    from meshtui.ui.proxies.stats import StatsPane


class PlacesNavigation(App[Any]):
    _focus_before_command: Widget | None = None
    started: asyncio.Event  # every view is mounted (ui/app.py _start)

    @property
    def pods(self) -> PodsPane:
        raise NotImplementedError

    @property
    def stats(self) -> StatsPane:
        raise NotImplementedError

    def pod_views(self) -> list[PodView]:
        raise NotImplementedError

    def _show_refresh_state(self) -> None:
        raise NotImplementedError

    @property
    def place(self) -> str:
        """The id of the place on screen."""
        return self.query_one(PlacesBar).current

    def place_widget(self, place_id: str) -> PlaceView | None:
        """The view of a mesh-wide place (None for the Proxies place)."""
        return self._place_widgets().get(place_id)

    def _place_widgets(self) -> dict[str, PlaceView]:
        found = {}
        for p in views.PLACES:
            if p.make is not None and (mounted := self.query_one(f"#place-{p.id}").children):
                found[p.id] = cast(PlaceView, mounted[0])
        return found  # before the start is done (ui/app.py _start), only what is mounted

    def _connect_places(self, access: MeshAccess | None) -> None:
        for view in self._place_widgets().values():
            view.connect(access)

    def go_to(self, place_id: str, arguments: dict[str, object] | None = None) -> None:
        """Show a place; only what is on screen polls."""
        if place_id not in {p.id for p in views.PLACES}:
            return
        if not self.started.is_set():  # a key in the first moment: the place is not mounted yet
            self.run_worker(self._go_when_started(place_id, arguments))
            return
        self.query_one(PlacesBar).show(place_id)
        self.query_one("#places", ContentSwitcher).current = (
            "main" if place_id == PROXIES else f"place-{place_id}"
        )
        for pid, other in self._place_widgets().items():
            other.set_shown(pid == place_id)
        self._tab_changed(self.query_one(TabbedContent).active)
        view = self.place_widget(place_id)
        if view is None:
            if arguments and "pods_filter" in arguments:  # the Mesh place's service: its pods
                self.pods.show_filter(str(arguments["pods_filter"]))
            self.pods.table.focus()
            return
        if not arguments and getattr(view, "follows_selection", False):
            arguments = self._selection()
        view.on_place_opened(**(arguments or {}))
        widget = cast(Widget, view)
        if self.focused is None or widget not in self.focused.ancestors_with_self:
            # focus the place's table, so its keys work at once; a text box only if the
            # place has nothing else (a single-key command must never land in a text box)
            target = _key_target([widget, *widget.query("*")])
            if target is not None:
                target.focus()

    def _selection(self) -> dict[str, object]:
        """The selected pod's workload and the Stats tab's filter, for a place about the
        pod's workload opened with no arguments (`:replicas`)."""
        pod = self.pods.selected
        if pod is None:
            return {}
        return {
            "namespace": pod.namespace,
            "workload": pod.workload,
            "sidecar": pod.sidecar is not None,
            "filter": self.stats.table.filter.text,
        }

    async def _go_when_started(self, place_id: str, arguments: dict[str, object] | None) -> None:
        await self.started.wait()
        self.go_to(place_id, arguments)

    @on(PlacesBar.Clicked)
    def _place_clicked(self, message: PlacesBar.Clicked) -> None:
        self.go_to(message.place_id)

    @on(CommandBar.Go)
    def _command_go(self, message: CommandBar.Go) -> None:
        self._focus_before_command = None
        self.go_to(message.place_id)
        if message.tab is not None:
            tabs = self.query_one(TabbedContent)
            tabs.active = message.tab
            self.call_after_refresh(self._focus_inside, message.tab)

    def _focus_inside(self, pane_id: str) -> None:
        """Focus the first thing a key reaches in that pane: its table, not the tab strip,
        and not its filter box (`:stats` then `p` pauses; it does not type a filter)."""
        pane = self.query_one(f"#{pane_id}")
        target = _key_target([w for w in self.screen.focus_chain if pane in w.ancestors])
        if target is not None:
            target.focus()

    @on(CommandBar.Closed)
    def _command_closed(self) -> None:
        before, self._focus_before_command = self._focus_before_command, None
        if before is not None and before.is_attached:
            before.focus()

    @on(Acted)
    def _acted(self, message: Acted) -> None:
        from meshtui.ui.events.pane import EventsPane

        view = self._place_widgets().get("events")
        if isinstance(view, EventsPane):
            view.note(message.obj, message.summary, dict(message.detail))

    @on(OpenPlace)
    def _open_place(self, message: OpenPlace) -> None:
        self.go_to(message.place_id, message.arguments)

    @on(ShowPod)
    def _show_pod(self, message: ShowPod) -> None:
        self.go_to(PROXIES)
        self.query_one(TabbedContent).active = message.tab
        # a filter typed for another pod's clusters would hide this one's stats
        self.stats.show_filter("")
        if message.tab == "tab-clusters":
            self.query_one("#clusters", ClustersPane).show_filter(message.find)
        if not self.pods.select_key(message.pod_namespace, message.pod_name):
            self.notify(
                f"{message.pod_namespace}/{message.pod_name} is not in the pods list", severity="warning"
            )

    def action_place(self, place_id: str) -> None:
        self.go_to(place_id)

    def action_command(self) -> None:
        self._focus_before_command = self.focused
        self.query_one(CommandBar).open()

    # -- the tabs: the Proxies place's pod tabs, and a place's own ----------------------

    def _tab_changed(self, active: str) -> None:
        # a hidden view does not poll; watching the reactive (not the Tabs message)
        # also catches a tab set from code before the tabs were fully up
        shown = self.place == PROXIES
        for tab, view in zip(views.POD_TABS, self.pod_views(), strict=True):
            view.set_shown(shown and active == tab.pane_id)
        self._show_refresh_state()

    def _show_tab(self, pane_id: str) -> None:
        self.query_one("#views", TabbedContent).active = pane_id

    def action_tab(self, step: int) -> None:
        """ctrl+right / ctrl+left: the next tab of the place on screen (the pod tabs in the
        Proxies place, a place's own elsewhere: Control plane's Proxy sync and Metrics)."""
        if self.place == PROXIES:
            tabs: TabbedContent | None = self.query_one("#views", TabbedContent)
        else:
            place = cast("Widget | None", self.place_widget(self.place))
            tabs = next(iter(place.query(TabbedContent)), None) if place is not None else None
        ids = [pane.id for pane in tabs.query(TabPane) if pane.id] if tabs is not None else []
        if tabs is not None and tabs.active in ids:
            tabs.active = ids[(ids.index(tabs.active) + step) % len(ids)]
            self._focus_in(tabs)

    def _focus_views(self) -> None:
        """The shown tab's table (not its filter box) takes the keys."""
        self._focus_in(self.query_one("#views", TabbedContent))

    def _focus_in(self, tabs: TabbedContent) -> None:
        pane = tabs.get_pane(tabs.active)
        target = next((w for w in pane.query("*") if w.focusable and not isinstance(w, Input)), None)
        if target is not None:
            self.screen.set_focus(target)  # at once: the keys typed next are for the view


def _key_target(widgets: list[Widget]) -> Widget | None:
    """The first focusable widget that is not a text box, else the first text box."""
    focusable = [w for w in widgets if w.focusable]
    return next((w for w in focusable if not isinstance(w, Input)), focusable[0] if focusable else None)
