"""The places of the app: the per-pod views, and one place per mesh-wide pane.

A pane that is not about one pod (istiod, Jaeger traces) is registered here with one line.
Its widget implements `connect(access)` (a `MeshAccess` once the kubeconfig has loaded,
None when there is no cluster, e.g. under --admin) and `set_active(active)` (poll only
while shown). Places are reached from the bar at the top, with number keys, and with
k9s's `:` command mode (`:istiod`), so a k9s user finds them without the help screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from textual.widget import Widget

from meshtui.kube.access import MeshAccess
from meshtui.ui.options import Options
from meshtui.ui.widgets.istiod import IstiodPane
from meshtui.ui.widgets.traces import TracesPane

PROXIES = "proxies"


class PlaceWidget(Protocol):
    def connect(self, access: MeshAccess | None) -> None: ...

    def set_active(self, active: bool) -> None: ...


@dataclass(frozen=True)
class Place:
    id: str
    title: str
    aliases: tuple[str, ...]  # what `:` accepts, k9s style
    make: Callable[[Options], Widget] | None  # None: the built-in per-pod layout


PLACES: tuple[Place, ...] = (
    Place(PROXIES, "Proxies", ("pods", "po", "proxies", "envoy"), None),
    Place(
        "istiod", "Control plane", ("istiod", "cp", "pilot", "syncz"), lambda o: IstiodPane(o, id="istiod")
    ),
    Place("traces", "Traces", ("traces", "jaeger", "tr", "trace"), lambda o: TracesPane(o, id="traces")),
)


# the per-pod tabs by name, so `:clusters` goes straight there (k9s users type what they want)
TABS: dict[str, str] = {
    "stats": "tab-stats",
    "st": "tab-stats",
    "clusters": "tab-clusters",
    "cl": "tab-clusters",
    "endpoints": "tab-clusters",
    "ep": "tab-clusters",
    "config": "tab-config",
    "cfg": "tab-config",
    "listeners": "tab-config",
    "routes": "tab-config",
    "proxy": "tab-proxy",
    "logging": "tab-proxy",
}


def resolve_tab(command: str) -> str | None:
    """The per-pod tab a `:` command names exactly (`:clusters`), if any."""
    return TABS.get(command.strip().lstrip(":").lower())


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
    return sorted({w for p in PLACES for w in (*p.aliases, p.id)} | set(TABS))
