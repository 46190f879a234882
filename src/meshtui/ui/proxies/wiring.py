"""The selected pod's views: attach them to the pod picked in the list (each view its own
share of the pod's one port-forward), follow or let go of it when the pods change (a
rollout, a scale-down), mark its sidecar down while its Envoy does not answer, and the
Clusters tab's jump to a cluster's stats. Mixed into MeshtuiApp, as ClusterWiring and
PlacesNavigation are."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App

from meshtui.kube.pods import PodInfo, replicas_of
from meshtui.live import Freshness
from meshtui.ui.options import Options
from meshtui.ui.proxies.messages import PodsChanged, PodSelected, ShowConfigObject, ShowStats
from meshtui.ui.proxies.pods import PodsPane
from meshtui.ui.views import PodView

if TYPE_CHECKING:
    from meshtui.envoy.live import AdminEndpoint
    from meshtui.kube.access import MeshAccess
    from meshtui.kube.portforward import ForwardManager
    from meshtui.ui.proxies.clusters import ClustersPane
    from meshtui.ui.proxies.stats import StatsPane


class PodViewsWiring(App[Any]):
    options: Options
    _views_for: tuple[str, str] | None  # the pod the views are attached to
    _endpoint_for: Callable[[PodInfo], AdminEndpoint] | None  # tests: a fixed admin per pod

    @property
    def pods(self) -> PodsPane:
        raise NotImplementedError

    @property
    def stats(self) -> StatsPane:
        raise NotImplementedError

    @property
    def clusters(self) -> ClustersPane:
        raise NotImplementedError

    @property
    def manager(self) -> ForwardManager | None:
        raise NotImplementedError

    @property
    def access(self) -> MeshAccess | None:
        raise NotImplementedError

    def pod_views(self) -> list[PodView]:
        raise NotImplementedError

    def _shutting_down(self) -> bool:
        raise NotImplementedError

    def _forwards_changed(self) -> None:
        raise NotImplementedError

    def _focus_views(self) -> None:
        raise NotImplementedError

    def _show_tab(self, pane_id: str) -> None:
        raise NotImplementedError

    @on(PodSelected)
    def _pod_selected(self, message: PodSelected) -> None:
        if self._shutting_down():
            return
        pod = message.pod
        if not pod.sidecar:
            why = f"{pod.name} has no istio-proxy sidecar: no Envoy to show"
            for view in self.pod_views():
                view.detach(why)
            self._views_for = None
            return
        if pod.key != self._views_for:  # enter on the pod already shown only moves the focus
            # each view holds its own reference to the pod's one shared forward
            for view in self.pod_views():
                view.attach(lambda: self._endpoint(pod))
            self._views_for = pod.key
        if message.followed_from:
            self.notify(f"{message.followed_from} was replaced: following {pod.name}", timeout=4)
        if message.by_user:
            self._focus_views()

    def _endpoint(self, pod: PodInfo) -> AdminEndpoint:
        if self._endpoint_for is not None:
            return self._endpoint_for(pod)
        from meshtui.kube.endpoint import ForwardedAdmin

        assert self.manager is not None  # a pod was selected: the cluster is connected
        return ForwardedAdmin(self.manager, pod.namespace, pod.name)

    @on(ShowConfigObject)
    def _show_config_object(self, message: ShowConfigObject) -> None:
        """The VirtualService or DestinationRule behind a Config row, from the Kubernetes API."""
        ref, access = message.ref, self.access
        if access is None:
            self.notify(
                f"no Kubernetes API here (--admin): {ref.kubectl} reads {ref.shown}", severity="warning"
            )
            return
        from meshtui.kube.istio_objects import read_object
        from meshtui.ui.proxies.config_object import ConfigObjectScreen

        target = access.target
        self.push_screen(ConfigObjectScreen(ref, lambda: read_object(target, ref), message.made))

    @on(ShowStats)
    def _show_cluster_stats(self, message: ShowStats) -> None:
        self._show_tab("tab-stats")
        self.stats.show_filter(f"cluster.{message.cluster}.")
        self.stats.table.focus()

    @on(PodsChanged)
    def _pods_changed(self, message: PodsChanged) -> None:
        if self.manager is None or self._shutting_down():
            return
        manager = self.manager
        for pod in message.gone:
            self.run_worker(manager.pod_deleted(pod.namespace, pod.name), exit_on_error=False)
        selected = self.pods.selected
        if (
            selected is not None
            and any(p.key == selected.key for p in message.gone)
            and self.pods.following is not None
        ):
            # deleted, and none replaces it (yet): a scale-down leaves other replicas, which are
            # not this pod; the last figures stay, dimmed, as for a sidecar that went silent
            # (no count: a scale-down removes its pods one by one, and the ones still
            # listed may be the next to go)
            left = replicas_of(selected, message.pods)
            gone = f"{selected.name} was deleted" + (" (scaled down: other replicas remain)" if left else "")
            for view in self.pod_views():
                view.detach(f"{gone}: its last figures, dimmed", keep=True)
            self.notify(gone + ("" if left else ": waiting for a replacement"), timeout=6)
            self._views_for = None
        self._forwards_changed()

    def _sidecar_answered(self, endpoint: str, freshness: Freshness) -> None:
        """Mark the selected pod's sidecar down in the pod list while its Envoy does not answer:
        the API server may still say Running (the container is up, its Envoy is not)."""
        if self.options.admin:
            return
        pod = self.pods.selected
        if pod is None:
            return
        if endpoint not in (self.stats.endpoint_label, self.clusters.endpoint_label):
            return
        self.pods.mark_sidecar(pod, freshness.reason if freshness.stale else None)
