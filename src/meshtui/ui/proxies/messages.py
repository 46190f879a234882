"""The Proxies place's messages: the selected sidecar's polls, and the pods watch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from meshtui.ui.messages import LiveUpdate

if TYPE_CHECKING:  # for the types only: the app imports this module before its first frame
    from meshtui.envoy.clusters_feed import ClustersUpdate
    from meshtui.envoy.config_history import HistoryUpdate
    from meshtui.envoy.feed import StatsUpdate
    from meshtui.kube.istio_objects import ConfigRef
    from meshtui.kube.pods import PodInfo


class SidecarPolled(LiveUpdate):
    """A poll of the selected pod's Envoy (stats or clusters): the pods list marks its
    sidecar down while these fail."""

    update: StatsUpdate | ClustersUpdate


class StatsUpdated(SidecarPolled):
    """A new poll of the selected sidecar's stats (or an error)."""

    update: StatsUpdate

    def __init__(self, update: StatsUpdate) -> None:
        super().__init__()
        self.update = update


class ClustersUpdated(SidecarPolled):
    """A new poll of the selected sidecar's clusters (or an error)."""

    update: ClustersUpdate

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


class ShowStats(Message):
    """From the Clusters tab: the Stats tab, filtered on one cluster (`cluster.<name>.`)."""

    def __init__(self, cluster: str) -> None:
        super().__init__()
        self.cluster = cluster


class ShowConfigObject(Message):
    """`enter` on a Config row that an Istio object made (a route's VirtualService, a
    cluster's DestinationRule): the app reads it from the cluster it is connected to."""

    def __init__(self, ref: ConfigRef, made: str) -> None:
        super().__init__()
        self.ref = ref
        self.made = made


class ConfigHistoryUpdated(Message):
    """The config versions the selected proxy held, as the history feed last read them."""

    def __init__(self, update: HistoryUpdate) -> None:
        super().__init__()
        self.update = update
