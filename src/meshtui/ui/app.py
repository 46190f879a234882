"""The meshtui app: pods on the left, the selected pod's views on the right, a status line."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, TabbedContent, TabPane

from meshtui.envoy.feed import AdminEndpoint, DirectEndpoint
from meshtui.freshness import Freshness
from meshtui.kube.pods import PodInfo
from meshtui.ui.messages import (
    ClustersUpdated,
    ForwardsChanged,
    KubeProblem,
    PodsChanged,
    PodSelected,
    StatsUpdated,
)
from meshtui.ui.screens.help import HelpScreen, rows_from_bindings
from meshtui.ui.widgets.clusters import ClustersPane
from meshtui.ui.widgets.config import ConfigPane
from meshtui.ui.widgets.pods import PodEvents, PodsPane
from meshtui.ui.widgets.proxy import ProxyPane
from meshtui.ui.widgets.stats import StatsPane
from meshtui.ui.widgets.status import StatusLine

SLOW_POLL_MS = 250
NARROW = 120


def styles_path() -> Path:
    """meshtui.tcss from an installed wheel (meshtui/styles) or a source checkout (styles/)."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[1] / "styles", here.parents[3] / "styles"):
        if (candidate / "meshtui.tcss").exists():
            return candidate / "meshtui.tcss"
    raise FileNotFoundError("meshtui.tcss not found next to the package nor in the checkout")


@dataclass
class Options:
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    admin: str | None = None
    interval: float = 1.0
    read_only: bool = False
    stats_filter: str = ""


class MeshtuiApp(App[int]):
    CSS_PATH = styles_path()
    TITLE = "meshtui"
    BINDINGS = [
        Binding("question_mark", "help", "Help", tooltip="Show every key that works here"),
        Binding("q", "quit", "Quit", tooltip="Quit meshtui (port-forwards are closed)"),
        Binding("ctrl+p", "command_palette", show=False),
    ]

    def __init__(
        self,
        options: Options,
        *,
        clock: Callable[[], float] = time.time,
        pod_events: PodEvents | None = None,
        endpoint_for: Callable[[PodInfo], AdminEndpoint] | None = None,
    ) -> None:
        super().__init__()
        self.options = options
        self.clock = clock
        self._pod_events = pod_events
        self._endpoint_for = endpoint_for
        self.manager: Any = None  # ForwardManager once the kubeconfig is loaded

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield PodsPane(clock=self.clock, id="pods")
            with TabbedContent(id="views"):
                with TabPane("Stats", id="tab-stats"):
                    yield StatsPane(self.options.interval, self.options.stats_filter, id="stats")
                with TabPane("Clusters", id="tab-clusters"):
                    yield ClustersPane(self.options.interval, id="clusters")
                with TabPane("Config", id="tab-config"):
                    yield ConfigPane(id="config")
                with TabPane("Proxy", id="tab-proxy"):
                    yield ProxyPane(self.options.read_only, id="proxy")
        yield StatusLine(id="status")
        yield Footer()

    @property
    def _base(self) -> Any:
        """The main screen, also while help or a confirmation is on top of it."""
        return self.screen_stack[0] if self.screen_stack else self.screen

    @property
    def stats(self) -> StatsPane:
        return self._base.query_one(StatsPane)

    @property
    def clusters(self) -> ClustersPane:
        return self._base.query_one(ClustersPane)

    @property
    def config(self) -> ConfigPane:
        return self._base.query_one(ConfigPane)

    @property
    def proxy(self) -> ProxyPane:
        return self._base.query_one(ProxyPane)

    @property
    def pods(self) -> PodsPane:
        return self._base.query_one(PodsPane)

    @property
    def status(self) -> StatusLine:
        return self._base.query_one(StatusLine)

    def on_resize(self, event: events.Resize) -> None:
        # below 120 columns the pods go on top, so the stats keep the full width
        self.query_one("#main").set_class(event.size.width < NARROW, "narrow")

    def on_mount(self) -> None:
        # Everything imported and built so far lives as long as the app: keep it out of the
        # cyclic GC, whose full passes over it stalled keys by 50-65 ms (bench/keystroke.py).
        gc.freeze()
        # Each refresh of a big sidecar makes ~10k objects that live one interval; with the
        # default thresholds they get promoted and full passes follow every few seconds
        # (60-80 ms each at 2,000 clusters, bench/clusters_keys.py). Collect young ones rarely.
        gc.set_threshold(50_000, 20, 100)
        self.watch(self.query_one(TabbedContent), "active", self._tab_changed)
        if self.options.admin:
            self.pods.display = False
            self.status.set(context="--admin", namespace="-")
            self.stats.attach(DirectEndpoint(self.options.admin))
            self.clusters.attach(DirectEndpoint(self.options.admin))
            self.config.attach(DirectEndpoint(self.options.admin))
            admin_url = self.options.admin
            self.proxy.attach(lambda: DirectEndpoint(admin_url))
            self.stats.table.focus()
        elif self._pod_events is not None:
            self.status.set(context="test", namespace=self.options.namespace or "")
            self.pods.watch_pods(self._pod_events)
            self.pods.table.focus()
        else:
            self.pods.table.focus()
            self._connect()

    @work(exclusive=True, group="kube", exit_on_error=False)
    async def _connect(self) -> None:
        # the kubernetes client is imported here, after the first frame
        from meshtui.kube import config
        from meshtui.kube.pods import PodWatch
        from meshtui.kube.portforward import ForwardManager

        try:
            target = await asyncio.to_thread(config.load, self.options.kubeconfig, self.options.context)
        except config.KubeError as exc:
            self.post_message(KubeProblem(str(exc)))
            self.pods._set_state(str(exc), error=True)
            return
        self.status.set(context=target.context, namespace=self.options.namespace or "")
        self.manager = ForwardManager(target, on_change=lambda _: self._forwards_changed())
        namespace = self.options.namespace
        self.pods.watch_pods(lambda: PodWatch(target, namespace).events())

    def _forwards_changed(self) -> None:
        if self.manager is not None and self.is_running:
            self.post_message(ForwardsChanged(tuple(self.manager.statuses())))

    # -- messages ----------------------------------------------------------------------

    @on(PodSelected)
    def _pod_selected(self, message: PodSelected) -> None:
        pod = message.pod
        if not pod.sidecar:
            why = f"{pod.name} has no istio-proxy sidecar: no Envoy to show"
            for view in (self.stats, self.clusters, self.config, self.proxy):
                view.detach(why)
            return
        # each view holds its own reference to the pod's one shared forward
        self.stats.attach(self._endpoint(pod))
        self.clusters.attach(self._endpoint(pod))
        self.config.attach(self._endpoint(pod))
        self.proxy.attach(lambda: self._endpoint(pod))
        if message.followed_from:
            self.notify(f"{message.followed_from} was replaced: following {pod.name}", timeout=4)

    def _endpoint(self, pod: PodInfo) -> AdminEndpoint:
        if self._endpoint_for is not None:
            return self._endpoint_for(pod)
        from meshtui.kube.endpoint import ForwardedAdmin

        return ForwardedAdmin(self.manager, pod.namespace, pod.name)

    def _tab_changed(self, active: str) -> None:
        # a hidden view does not poll; watching the reactive (not the Tabs message)
        # also catches a tab set from code before the tabs were fully up
        self.stats.set_active(active == "tab-stats")
        self.clusters.set_active(active == "tab-clusters")
        self.config.set_active(active == "tab-config")
        self.proxy.set_active(active == "tab-proxy")

    @on(ClustersPane.ShowStats)
    def _show_cluster_stats(self, message: ClustersPane.ShowStats) -> None:
        self.query_one(TabbedContent).active = "tab-stats"
        self.stats.show_filter(f"cluster.{message.cluster}.")
        self.stats.table.focus()

    @on(PodsChanged)
    def _pods_changed(self, message: PodsChanged) -> None:
        if self.manager is None:
            return
        for pod in message.gone:
            self.run_worker(self.manager.pod_deleted(pod.namespace, pod.name), exit_on_error=False)
        selected = self.pods.selected
        if (
            selected is not None
            and any(p.key == selected.key for p in message.gone)
            and self.pods.following is not None
        ):
            why = f"{selected.name} was deleted: waiting for its replacement ..."
            for view in (self.stats, self.clusters, self.config, self.proxy):
                view.detach(why)
        self._forwards_changed()

    @on(ForwardsChanged)
    def _forwards(self, message: ForwardsChanged) -> None:
        if self.screen.query(StatusLine):  # not while shutting down
            self.status.set(forwards=message.statuses)

    @on(KubeProblem)
    def _kube_problem(self, message: KubeProblem) -> None:
        if message.message != self.status.problem:
            self.status.set(problem=message.message)

    @on(StatsUpdated)
    def _stats_updated(self, message: StatsUpdated) -> None:
        u = message.update
        if not self.screen_stack:
            return  # a last poll arriving while the app shuts down
        self._sidecar_answered(u.endpoint, u.freshness)
        if self.stats.paused:
            text = "stats PAUSED (p resumes)"
        elif u.freshness.stale:
            text = f"stats stale since {u.freshness.since_text()}, retrying ({u.failures})"
        else:
            text = f"stats live every {self.options.interval:g}s"
            if u.fetch_ms >= SLOW_POLL_MS:  # only worth space when the sidecar or forward is slow
                text += f", slow poll {u.fetch_ms:.0f} ms"
        self.status.set(refresh_state=text)

    @on(ClustersUpdated)
    def _clusters_updated(self, message: ClustersUpdated) -> None:
        if self.screen_stack:
            self._sidecar_answered(message.update.endpoint, message.update.freshness)

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

    # -- actions -----------------------------------------------------------------------

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(rows_from_bindings(dict(self.screen.active_bindings))))

    async def action_quit(self) -> None:
        # levels changed from meshtui go back before the forwards close
        for label in await self.proxy.revert_all():
            self.log(f"reverted log levels on {label}")
        if self.manager is not None:
            await self.manager.close()
        self.exit(0)


def run_app(args: Any) -> int:
    options = Options(
        kubeconfig=args.kubeconfig,
        context=args.context,
        namespace=args.namespace,
        admin=args.admin,
        interval=args.interval,
        read_only=args.read_only,
        stats_filter=args.filter,
    )
    app = MeshtuiApp(options)
    result = app.run()
    return result if result is not None else (app.return_code or 0)
