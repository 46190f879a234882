"""Every view of meshtui, registered once: the tabs about the selected pod's sidecar, and
the places about the whole mesh.

Adding a view is one backend module, one widget module and one line here. The widget
implements the Protocol of its kind, checked when the app composes it:

- every view: `set_shown(shown)` (only what is on screen polls) and `status()` (the
  phrase the status line shows for it while it is on screen: live, paused, stale ...;
  an `ongoing` one, such as a load run, is shown wherever the user is);
- a pod view (`PodView`, a tab of the Proxies place): `attach(new_endpoint)` when a pod
  with a sidecar is selected (each view takes its own endpoint, so its own share of the
  pod's one port-forward) and `detach(why)` when there is none;
- a place (`PlaceView`, mesh-wide: istiod, traces, load, replicas, mesh, events): `connect(access)` once the
  kubeconfig has loaded (None when there is no cluster, e.g. under --admin) and
  `on_place_opened(**arguments)` when another view sends the user there.

Places are reached from the bar at the top, with number keys, and with k9s's `:`
command mode (`:istiod`), so a k9s user finds them without the help screen; pod tabs
by name too (`:clusters`). Widgets are imported when made, not with the app: a place
not shown costs nothing at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from textual.widget import Widget

    from meshtui.envoy.live import AdminEndpoint
    from meshtui.kube.access import MeshAccess
    from meshtui.ui.options import Options

PROXIES = "proxies"


@dataclass(frozen=True, slots=True)
class ViewStatus:
    """What a view tells the status line: one short phrase, dim unless something is wrong."""

    text: str = ""
    problem: bool = False
    ongoing: bool = False  # work that goes on while the view is not shown (a load run): said always


@runtime_checkable
class View(Protocol):
    def set_shown(self, shown: bool) -> None: ...

    def status(self) -> ViewStatus: ...


@runtime_checkable
class PodView(View, Protocol):
    def attach(self, new_endpoint: Callable[[], AdminEndpoint]) -> None: ...

    def detach(self, why: str, *, keep: bool = False) -> None:
        """Leave the pod: `why` in the view's state line. `keep`: the pod is gone, its last
        figures stay on screen, dimmed, with nothing live in them."""
        ...


@runtime_checkable
class PlaceView(View, Protocol):
    def connect(self, access: MeshAccess | None) -> None: ...

    def on_place_opened(self, **arguments: object) -> None: ...


@dataclass(frozen=True)
class Place:
    id: str
    title: str
    aliases: tuple[str, ...]  # what `:` accepts, k9s style
    make: Callable[[Options], Widget] | None  # None: the Proxies place (pods and their tabs)


@dataclass(frozen=True)
class PodTab:
    id: str
    title: str
    aliases: tuple[str, ...]
    make: Callable[[Options], Widget]

    @property
    def pane_id(self) -> str:
        return f"tab-{self.id}"


def _stats(o: Options) -> Widget:
    from meshtui.ui.proxies.stats import StatsPane

    return StatsPane(o.interval, o.stats_filter, id="stats")


def _clusters(o: Options) -> Widget:
    from meshtui.ui.proxies.clusters import ClustersPane

    return ClustersPane(o.interval, id="clusters")


def _config(o: Options) -> Widget:
    from meshtui.ui.proxies.config import ConfigPane

    return ConfigPane(id="config")


def _proxy(o: Options) -> Widget:
    from meshtui.ui.proxies.proxy import ProxyPane

    return ProxyPane(o.read_only, id="proxy")


def _istiod(o: Options) -> Widget:
    from meshtui.ui.istiod.pane import IstiodPane

    return IstiodPane(o, id="istiod")


def _traces(o: Options) -> Widget:
    from meshtui.ui.traces.pane import TracesPane

    return TracesPane(o, id="traces")


def _replicas(o: Options) -> Widget:
    from meshtui.ui.replicas.pane import ReplicasPane

    return ReplicasPane(o, id="replicas")


def _mesh(o: Options) -> Widget:
    from meshtui.ui.mesh.pane import MeshPane

    return MeshPane(o, id="mesh")


def _events(o: Options) -> Widget:
    from meshtui.ui.events.pane import EventsPane

    return EventsPane(o, id="events")


def _load(o: Options) -> Widget:
    from meshtui.ui.load.pane import LoadPane

    return LoadPane(o, id="load")


POD_TABS: tuple[PodTab, ...] = (
    PodTab("stats", "Stats", ("stats", "st"), _stats),
    PodTab("clusters", "Clusters", ("clusters", "cl", "endpoints", "ep"), _clusters),
    PodTab("config", "Config", ("config", "cfg", "listeners", "routes"), _config),
    PodTab("proxy", "Proxy", ("proxy", "logging"), _proxy),
)

PLACES: tuple[Place, ...] = (
    Place(PROXIES, "Proxies", ("pods", "po", "proxies", "envoy"), None),
    Place("istiod", "Control plane", ("istiod", "cp", "pilot", "syncz"), _istiod),
    Place("traces", "Traces", ("traces", "jaeger", "tr", "trace"), _traces),
    Place("load", "Load", ("load", "ld", "hey", "loadgen"), _load),
    Place("replicas", "Replicas", ("replicas", "rep", "side", "workload"), _replicas),
    Place("mesh", "Mesh", ("mesh", "graph", "kiali", "prometheus", "red"), _mesh),
    Place("events", "Events", ("events", "ev", "timeline", "history", "changes"), _events),
)


def resolve_tab(command: str) -> str | None:
    """The pane id of the pod tab a `:` command names (`:clusters`), or an unambiguous
    prefix of one that names no place (`:clu`, as the box suggests it)."""
    word = command.strip().lstrip(":").lower()
    exact = next((t.pane_id for t in POD_TABS if word in t.aliases), None)
    if exact is not None or not word:
        return exact
    tabs = {t.pane_id for t in POD_TABS if any(a.startswith(word) for a in t.aliases)}
    places = [p for p in PLACES if any(a.startswith(word) for a in (*p.aliases, p.title.lower()))]
    return tabs.pop() if len(tabs) == 1 and not places else None


def resolve(command: str) -> Place | None:
    """The place a `:` command names: an alias, a title, or an unambiguous prefix of one."""
    word = command.strip().lstrip(":").lower()
    if not word:
        return None
    for place in PLACES:
        if word in place.aliases or word in (place.id, place.title.lower()):
            return place
    hits = [p for p in PLACES if any(a.startswith(word) for a in (*p.aliases, p.title.lower()))]
    return hits[0] if len(hits) == 1 else None


def words() -> list[str]:
    """Every word `:` completes to."""
    return sorted({w for p in PLACES for w in (*p.aliases, p.id)} | {a for t in POD_TABS for a in t.aliases})
