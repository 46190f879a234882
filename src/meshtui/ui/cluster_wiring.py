"""The app's side of the cluster connection (kube/connection.py): open it after the first
frame, start the pods watch and the places on it, and show its state (the context, the
forwards, an SSH drop, an RBAC denial) in the status line. Mixed into MeshtuiApp, as
PlacesNavigation is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App

from meshtui.kube.access import MeshAccess
from meshtui.kube.connection import ClusterConnection, ClusterSpec
from meshtui.ui.messages import ForwardsChanged, KubeProblem
from meshtui.ui.options import Options
from meshtui.ui.proxies.pods import PodsPane
from meshtui.ui.widgets.status import StatusLine

if TYPE_CHECKING:  # loaded with the cluster, after the first frame
    from meshtui.kube.portforward import ForwardManager
    from meshtui.kube.ssh import SshTunnel


class ClusterWiring(App[Any]):
    options: Options
    connection: ClusterConnection | None

    @property
    def pods(self) -> PodsPane:
        raise NotImplementedError

    @property
    def status(self) -> StatusLine:
        raise NotImplementedError

    def _connect_places(self, access: MeshAccess | None) -> None:
        raise NotImplementedError

    def _shutting_down(self) -> bool:
        raise NotImplementedError

    _access: MeshAccess | None  # tests hand the app its cluster directly

    @property
    def access(self) -> MeshAccess | None:
        """The cluster (API and port-forwards), once connected; None with --admin."""
        if self.connection is not None and self.connection.access is not None:
            return self.connection.access
        return self._access

    @property
    def manager(self) -> ForwardManager | None:
        """The port-forwards every view shares, once the cluster is connected."""
        access = self.access
        return access.manager if access is not None else None

    @property
    def tunnel(self) -> SshTunnel | None:
        return self.connection.tunnel if self.connection is not None else None

    @work(exclusive=True, group="kube", exit_on_error=False)
    async def _connect(self) -> None:
        # the kubernetes client is imported here, after the first frame
        from meshtui.kube.config import KubeError
        from meshtui.kube.pods import PodWatch

        o = self.options
        self.connection = ClusterConnection(
            ClusterSpec(o.kubeconfig, o.context, o.ssh, o.ssh_accept_new),
            on_forwards=lambda _: self._forwards_changed(),
            on_ssh=self._ssh_changed,
        )
        try:
            access = await self.connection.open()
        except KubeError as exc:  # an SSH failure too: one line, the app stays up
            self.post_message(KubeProblem(str(exc)))
            self.pods._set_state(str(exc), error=True)
            return
        target = access.target
        via = f" via {target.via}" if target.via else ""
        self.status.set(context=target.context + via, namespace=o.namespace or "")
        namespace = o.namespace
        self.pods.watch_pods(lambda: PodWatch(target, namespace).events())
        self._connect_places(access)

    _ssh_line: str | None = None  # the SSH connection's trouble, while it lasts

    def _ssh_changed(self, line: str | None) -> None:
        """The SSH connection dropped (its reason) or is back (None): the status line says so."""
        self._ssh_line = line
        if self.is_running:
            self.post_message(KubeProblem(line))

    def _forwards_changed(self) -> None:
        if self.connection is not None and self.is_running:
            self.post_message(ForwardsChanged(self.connection.forwards()))

    @on(ForwardsChanged)
    def _forwards(self, message: ForwardsChanged) -> None:
        if not self._shutting_down():
            self.status.set(forwards=message.statuses)

    @on(KubeProblem)
    def _kube_problem(self, message: KubeProblem) -> None:
        if self._shutting_down():
            return
        # while the SSH connection is down, that is the problem: the API server's errors
        # behind it (the watch's, through meshtui's relay) are its consequence
        problem = self._ssh_line or message.message
        if problem != self.status.problem:
            self.status.set(problem=problem)
