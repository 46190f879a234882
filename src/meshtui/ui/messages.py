"""Messages the whole app shares: a live view's update (each place subclasses it in its
own messages module: ui/proxies, ui/istiod, ui/traces), the cluster connection's news, and
going somewhere (ShowPod, OpenPlace)."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from meshtui.kube.forward_status import ForwardStatus


class _Poll(Message):
    """A poll's result: a newer one replaces a queued older one of the same kind (toolong)."""

    def can_replace(self, message: Message) -> bool:
        return type(message) is type(self)


class LiveUpdate(_Poll):
    """One update of a live view's feed (meshtui/live.py), data or a failure, with its
    freshness; the app refreshes the status line on each."""

    update: Any


class ForwardsChanged(Message):
    def __init__(self, statuses: tuple[ForwardStatus, ...]) -> None:
        super().__init__()
        self.statuses = statuses

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ForwardsChanged)


class KubeProblem(Message):
    """The API server could not be used (unreachable, RBAC, credentials); None clears it."""

    def __init__(self, message: str | None) -> None:
        super().__init__()
        self.message = message


class ShowPod(Message):
    """From a mesh-wide pane: go to the Proxies place, select this pod, show this tab."""

    def __init__(self, namespace: str, name: str, tab: str = "tab-stats", find: str = "") -> None:
        super().__init__()
        # `namespace` is a Message class attribute (the handler prefix): not ours to reuse
        self.pod_namespace = namespace
        self.pod_name = name
        self.tab = tab
        self.find = find  # the Clusters tab's filter (an edge of the Mesh place: its destination)


class OpenPlace(Message):
    """Go to a place; `arguments` go to its widget's `on_place_opened(**arguments)` if it has one."""

    def __init__(self, place_id: str, arguments: dict[str, object] | None = None) -> None:
        super().__init__()
        self.place_id = place_id
        self.arguments = arguments or {}


class RefreshStateChanged(Message):
    """A view was paused, resumed, shown or hidden: the status line says so at once."""


class Acted(Message):
    """meshtui changed something in the mesh (a log level, counters, a load run): the
    Events place lists it with the rest of what changed."""

    def __init__(self, obj: str, summary: str, **detail: object) -> None:
        super().__init__()
        self.obj = obj
        self.summary = summary
        self.detail = detail
