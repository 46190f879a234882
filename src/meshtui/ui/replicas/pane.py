"""The Replicas place: one workload's pods side by side, live. `R` on a pod in Proxies (or
`:replicas` with a pod selected) opens its Deployment's replicas with the Stats tab's
filter; `/` changes the filter, `v` shows counters' values instead of their rates, `c`
compares the replicas' clusters (requests/s, errors %, healthy endpoints: `v` cycles).

One long-lived worker runs the ReplicasFeed while the place is shown; pods that come and
go (a scale, a rollout restart) are found by the feed's listing, every 2 s.
"""

from __future__ import annotations

import dataclasses
import time
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input

from meshtui.envoy.filter import FilterError, StatFilter
from meshtui.kube.access import MeshAccess
from meshtui.kube.forwarded_pods import ForwardedPods
from meshtui.kube.workload import Workload, WorkloadError, deployment
from meshtui.replicas.feed import WINDOW_S, ReplicasFeed, ReplicasUpdate
from meshtui.ui.options import Options
from meshtui.ui.replicas.messages import ReplicasUpdated
from meshtui.ui.replicas.table import CLUSTER_FIGURES, ReplicasTable
from meshtui.ui.stale import show_freshness, stale_line
from meshtui.ui.widgets.filter_box import FilterBox
from meshtui.ui.widgets.keys import filter_key, refresh_key
from meshtui.ui.widgets.live_view import LiveView
from meshtui.ui.widgets.state_line import StateLine

ENVOY_ADMIN_PORT = 15000
RELIST_S = 2.0  # pods of a scale or a rollout show within this
NO_CLUSTER = "needs a Kubernetes cluster: started with --admin (replicas are found through the API server)"
NOTICE_S = 8.0
EMPTY = "no workload yet: R on a pod in Proxies (1) shows its Deployment's replicas side by side"


class ReplicasPane(LiveView):
    status_name = "replicas"
    follows_selection: ClassVar[bool] = True  # `:replicas` opens the selected pod's workload

    DEFAULT_CSS = """
    ReplicasPane { height: 1fr; }
    ReplicasPane #replicas-finding { height: auto; max-height: 2; padding: 0 1; color: $warning; }
    ReplicasPane ReplicasTable { height: 1fr; }
    """
    BINDINGS = [
        filter_key("Filter the stats compared: a name prefix, or re:REGEX"),
        Binding(
            "c",
            "toggle_clusters",
            "Stats/clusters",
            tooltip="Compare the replicas' clusters (requests, errors, healthy endpoints) or their stats",
            id="toggle_clusters",
        ),
        Binding(
            "v",
            "toggle_rates",
            "Figure",
            tooltip="Stats: counters as rates (over 10 s) or values; clusters: requests/s, errors %, healthy",
            id="toggle_rates",
        ),
        refresh_key("Read every replica now"),
    ]

    def __init__(self, options: Options, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.options = options
        self.access: MeshAccess | None = None
        self.connected = False
        self.workload: Workload | None = None
        self.last: ReplicasUpdate | None = None
        self.stat_filter = StatFilter(options.stats_filter.strip())
        self.clusters = False  # `c`: the replicas' clusters instead of their stats
        self._wanted: dict[str, object] = {}  # opened before the cluster was known
        self._notice = ("", 0.0)  # a refusal said for NOTICE_S over the live line

    def compose(self) -> ComposeResult:
        yield FilterBox(
            self.stat_filter.text,
            back_to=lambda: self.table,
            placeholder="filter stats: name prefix, or re:REGEX",
            id="replicas-filter",
        )
        yield StateLine(EMPTY, id="replicas-state")
        yield StateLine("", id="replicas-finding")
        yield ReplicasTable(id="replicas-table")

    @property
    def table(self) -> ReplicasTable:
        return self.query_one(ReplicasTable)

    def export_fields(self) -> dict[str, object]:  # ui/export.py
        return {
            "workload": self.workload.title if self.workload else "",
            "filter": self.stat_filter.text,
            "rows": [self.table.record(key) for key in self.table.rows],
        }

    # -- the place protocol --------------------------------------------------------------

    def connect(self, access: MeshAccess | None) -> None:
        self.access, self.connected = access, True
        if access is None:
            self._state(NO_CLUSTER, error=True)
            return
        if self._wanted:
            wanted, self._wanted = self._wanted, {}
            self.on_place_opened(**wanted)

    def on_place_opened(self, **arguments: object) -> None:
        namespace, name = arguments.get("namespace"), arguments.get("workload")
        if not namespace or not name:
            return  # the workload on screen stays (or the empty state says what to do)
        if not self.connected:
            self._wanted = dict(arguments)
            return
        if self.access is None:
            return
        if arguments.get("sidecar") is False:
            # its pods have no Envoy to read: say so, and keep what is on screen
            self._notice = (
                f"{name} in {namespace} has no istio-proxy sidecar: no Envoy to compare",
                time.monotonic(),
            )
            self._state(self._notice[0], error=True)
            return
        w = self.workload
        if w is not None and w.namespace == namespace and w.shown in (f"deploy/{name}", f"app={name}"):
            return  # already this one (its filter, as you left it, stays)
        if "filter" in arguments and str(arguments["filter"]) != self.stat_filter.text:
            self.query_one(FilterBox).value = str(arguments["filter"])
        self._state(f"looking for the replicas of {name} in {namespace} ...")
        self._open(str(namespace), str(name))

    @work(exclusive=True, group="replicas-open", exit_on_error=False)
    async def _open(self, namespace: str, name: str) -> None:
        assert self.access is not None
        try:
            workload = await deployment(self.access.target, namespace, name, fallback=True)
        except WorkloadError as exc:
            self._state(str(exc), error=True)
            return
        self.workload, self.last = workload, None
        source = ForwardedPods(
            self.access.target,
            self.access.manager,
            workload.namespace,
            workload.selector,
            ENVOY_ADMIN_PORT,
            WorkloadError,
            relist=RELIST_S,
        )
        feed = ReplicasFeed(workload, source, self.options.interval)
        feed.filter, feed.clusters = self.stat_filter, self.clusters
        self._state(f"{workload.title}: reading every replica ...")
        self.start_feed(feed)

    # -- the feed --------------------------------------------------------------------------

    async def updated(self, update: ReplicasUpdate) -> ReplicasUpdated:
        return ReplicasUpdated(update)

    @on(ReplicasUpdated)
    def _on_update(self, message: ReplicasUpdated) -> None:
        u: ReplicasUpdate = message.update
        if self.workload is None or u.workload != self.workload:
            return  # a late poll of the workload shown before
        show_freshness(u.freshness, self.table)
        if u.error:
            if self.last is not None and not self.last.freshness.stale:
                # the last figures stay, dimmed, with no rate: nothing here is live
                self.last = dataclasses.replace(self.last, total_rates={}, freshness=u.freshness)
                self.last = dataclasses.replace(
                    self.last,
                    replicas=tuple(
                        dataclasses.replace(r, rates={}, served_rps=None, error_pct=None)
                        for r in self.last.replicas
                    ),
                )
                self.table.show(self.last)
            self._state(stale_line(u.freshness, u.error), error=True)
            return
        self.last = u
        down = [f"{r.pod}: {r.error}" for r in u.replicas if r.error]
        what = "clusters" if u.clusters else "stats"
        line = (
            f"{u.workload.title if u.workload else ''}: {len(u.replicas)} replica(s), "
            f"{len(u.names)} {what}, rates over the last {WINDOW_S:g} s, every "
            f"{self.options.interval:g}s, {u.fetch_ms:.0f} ms"
        )
        notice, said = self._notice
        noticed = bool(notice) and time.monotonic() - said < NOTICE_S
        if noticed:
            line = f"{notice}  |  {line}"
        self._state(line + ("  |  " + "; ".join(down) if down else ""), error=bool(down) or noticed)
        self.query_one("#replicas-finding", StateLine).say(
            f"✗ {u.outlier_why}" if u.outlier else "", error=False
        )
        self.table.show(u)

    def _state(self, text: str, error: bool = False) -> None:
        self.query_one("#replicas-state", StateLine).say(text, error)

    # -- keys ------------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one(FilterBox).open()

    def action_toggle_rates(self) -> None:
        table = self.table
        if table.update is not None and table.update.clusters:
            figures = list(CLUSTER_FIGURES)
            table.figure = figures[(figures.index(table.figure) + 1) % len(figures)]
        else:
            table.rates = not table.rates
        table.refresh()

    def action_toggle_clusters(self) -> None:
        self.clusters = not self.clusters
        if isinstance(self.feed, ReplicasFeed):
            self.feed.set_clusters(self.clusters)
        what = "clusters" if self.clusters else "stats"
        self.query_one(FilterBox).placeholder = f"filter {what}: name prefix, or re:REGEX"

    @on(Input.Changed, "#replicas-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        try:
            f = StatFilter(event.value.strip())
            if f.is_regex:
                f.compiled  # noqa: B018 - said now, not at the next poll
        except FilterError as exc:
            self._state(str(exc), error=True)
            return
        self.stat_filter = f
        if isinstance(self.feed, ReplicasFeed):
            self.feed.set_filter(f)
