"""Messages that carry immutable snapshots from workers to widgets."""

from __future__ import annotations

from textual.message import Message

from meshtui.envoy.feed import StatsUpdate
from meshtui.kube.pods import PodInfo
from meshtui.kube.portforward import ForwardStatus


class StatsUpdated(Message):
    """A new poll of the selected sidecar (or an error). A newer one replaces a queued older one."""

    def __init__(self, update: StatsUpdate) -> None:
        super().__init__()
        self.update = update

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StatsUpdated)


class PodsChanged(Message):
    """The pods after one watch event; `gone` lists the pods that just disappeared."""

    def __init__(self, pods: tuple[PodInfo, ...], gone: tuple[PodInfo, ...] = ()) -> None:
        super().__init__()
        self.pods = pods
        self.gone = gone


class PodSelected(Message):
    """The user picked a pod (or the selection followed a rollout to a new pod)."""

    def __init__(self, pod: PodInfo, followed_from: str | None = None) -> None:
        super().__init__()
        self.pod = pod
        self.followed_from = followed_from


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
