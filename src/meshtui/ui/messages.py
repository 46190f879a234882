"""Messages that carry immutable snapshots from workers to widgets."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from meshtui.envoy.clusters_feed import ClustersUpdate
from meshtui.envoy.feed import StatsUpdate
from meshtui.kube.forward_status import ForwardStatus
from meshtui.kube.pods import PodInfo


class _Poll(Message):
    """A poll's result: a newer one replaces a queued older one of the same kind (toolong)."""

    def can_replace(self, message: Message) -> bool:
        return type(message) is type(self)


class LiveUpdate(_Poll):
    """One update of a live view's feed (meshtui/live.py), data or a failure, with its
    freshness; the app refreshes the status line on each."""

    update: Any


class StatsUpdated(LiveUpdate):
    """A new poll of the selected sidecar's stats (or an error)."""

    def __init__(self, update: StatsUpdate) -> None:
        super().__init__()
        self.update = update


class ClustersUpdated(LiveUpdate):
    """A new poll of the selected sidecar's clusters (or an error)."""

    def __init__(self, update: ClustersUpdate) -> None:
        super().__init__()
        self.update = update


class PodsChanged(Message):
    """The pods after one watch event; `gone` lists the pods that just disappeared, and
    `changed` the pods the event changed in place (None when pods came, went or moved)."""

    def __init__(
        self,
        pods: tuple[PodInfo, ...],
        gone: tuple[PodInfo, ...] = (),
        changed: tuple[PodInfo, ...] | None = None,
    ) -> None:
        super().__init__()
        self.pods = pods
        self.gone = gone
        self.changed = changed


class PodSelected(Message):
    """The user picked a pod (or the selection followed a rollout to a new pod)."""

    def __init__(self, pod: PodInfo, followed_from: str | None = None, *, by_user: bool = False) -> None:
        super().__init__()
        self.pod = pod
        self.followed_from = followed_from
        self.by_user = by_user  # enter on a pod: its views take the focus (k9s's drill-down)


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

    def __init__(self, namespace: str, name: str, tab: str = "tab-stats") -> None:
        super().__init__()
        # `namespace` is a Message class attribute (the handler prefix): not ours to reuse
        self.pod_namespace = namespace
        self.pod_name = name
        self.tab = tab


class OpenPlace(Message):
    """Go to a place; `arguments` go to its widget's `on_place_opened(**arguments)` if it has one."""

    def __init__(self, place_id: str, arguments: dict[str, object] | None = None) -> None:
        super().__init__()
        self.place_id = place_id
        self.arguments = arguments or {}


class RefreshStateChanged(Message):
    """A view was paused, resumed, shown or hidden: the status line says so at once."""
