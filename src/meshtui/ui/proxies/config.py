"""The config pane: what the selected proxy was told (`/config_dump`), one section at a
time as a table, the selected row as a collapsible JSON tree, and the tracer's health.

Config changes rarely and a dump can be large, so it is fetched when the tab is shown
and on `r`, not every second.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input, Tab, Tabs, Tree

from meshtui.envoy.admin import AdminError, EnvoyAdmin
from meshtui.envoy.config_dump import (
    COLUMNS,
    SECTIONS,
    ConfigDumpError,
    bootstrap_of,
    cell,
    parse_config_dump,
    public,
    rows,
    sampling_of,
)
from meshtui.envoy.config_history import HistoryFeed, HistoryUpdate
from meshtui.envoy.live import AdminEndpoint
from meshtui.envoy.tracing_health import TracingHealth, read_tracing_health
from meshtui.kube.istio_objects import ConfigRef
from meshtui.ui.proxies.config_history import ConfigHistoryScreen
from meshtui.ui.proxies.config_table import ConfigTable
from meshtui.ui.proxies.messages import ConfigHistoryUpdated, ShowConfigObject
from meshtui.ui.views import ViewStatus
from meshtui.ui.widgets.filter_box import FilterBox
from meshtui.ui.widgets.keys import filter_key, refresh_key
from meshtui.ui.widgets.state_line import StateLine

ALL_SECTIONS = (*SECTIONS, "tracing")
OBJECT_OF = {"routes": "VirtualService", "clusters": "DestinationRule"}  # what `enter` opens
# why a section of a fetched dump can be empty, said instead of "0 of 0 rows"
EMPTY = {
    "endpoints": "no EDS endpoints in this proxy's /config_dump?include_eds",
    "secrets": "no SDS secrets: this proxy holds no workload certificate or root CA (mTLS off?)",
    "ecds": "no extension configs (ECDS): istiod sends them for WasmPlugins and Telemetry's stats filters",
}
MAX_COLUMN = 70


class SectionTable(NamedTuple):
    """A section of one dump, worked out once (a filter key only picks among its rows)."""

    rows: list[dict[str, Any]]
    texts: list[tuple[str, ...]]  # each row's cells as istioctl prints them
    search: list[str]  # each row's text for the filter, lower case
    lengths: list[list[int]]  # per column, each row's cell length (a column is as wide as its widest)
    error: str  # the one line when the section could not be read


def section_tables(doc: dict[str, Any], tracing: TracingHealth | None) -> dict[str, SectionTable]:
    """Every section's table; no widget is touched (this runs in a worker thread)."""
    out = {}
    for section in ALL_SECTIONS:
        error = ""
        try:
            found = _section(doc, tracing, section)
        except ConfigDumpError as exc:
            found, error = [], str(exc)
        texts = [tuple(cell(r.get(c, "")) or "-" for c, _ in COLUMNS[section]) for r in found]
        search = ["\0".join(str(v) for v in public(r).values()).lower() for r in found]
        lengths = [[len(t[c]) for t in texts] for c in range(len(COLUMNS[section]))]
        out[section] = SectionTable(found, texts, search, lengths, error)
    return out


def _section(doc: dict[str, Any], tracing: TracingHealth | None, section: str) -> list[dict[str, Any]]:
    if section != "tracing":
        return rows(doc, section)
    if tracing is None:
        return []
    try:
        sampling = sampling_of(doc)
    except ConfigDumpError:
        sampling = None  # shown as "not visible"
    return [{**r, "_raw": r} for r in tracing.rows(sampling)]


def json_tree(tree: Tree[Any], value: Any, label: str = "", search: str = "") -> None:
    """Fill a Tree with a JSON value; objects and lists fold, and open where `search` is found."""
    tree.clear()
    tree.root.set_label(label)

    def add(node: Any, key: str, v: Any) -> None:
        hit = bool(search) and search in json.dumps(v).lower()
        if isinstance(v, dict):
            child = node.add(f"[b]{escape(key)}[/b] {{{len(v)}}}", expand=hit or (not search and len(v) <= 8))
            for k, sub in v.items():
                add(child, str(k), sub)
        elif isinstance(v, list):
            child = node.add(f"[b]{escape(key)}[/b] [{len(v)}]", expand=hit or (not search and len(v) <= 4))
            for i, sub in enumerate(v):
                add(child, str(i), sub)
        else:
            text = escape(v if isinstance(v, str) else repr(v))
            mark = "[reverse]" if hit else ""
            node.add_leaf(f"[b]{escape(key)}[/b]: {mark}{text}{'[/reverse]' if mark else ''}")

    if isinstance(value, (dict, list)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            add(tree.root, str(k), v)
    else:
        tree.root.add_leaf(str(value))
    tree.root.expand()


SETTLE_S = 2.0


class ConfigPane(Widget):
    BINDINGS = [
        refresh_key("Fetch the config again"),
        filter_key("Filter this section's rows (any column)"),
        Binding(
            "left_square_bracket",
            "section(-1)",
            "Prev section",
            show=False,
            tooltip="Previous section",
            id="section.-1",
        ),
        Binding("right_square_bracket", "section(1)", "Next section", tooltip="Next section", id="section.1"),
        Binding(
            "h",
            "history",
            "History",
            tooltip="The config versions this proxy held while meshtui watched it, and what changed",
            id="history",
        ),
        Binding(
            "enter",
            "show_object",
            "Istio object",
            show=False,
            tooltip="The VirtualService (routes) or DestinationRule (clusters) that made the row",
            id="show_object",
        ),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.endpoint: AdminEndpoint | None = None
        self.doc: dict[str, Any] | None = None
        self.tracing: TracingHealth | None = None
        self.section = "clusters"
        self.text_filter = ""
        self.shown: list[dict[str, Any]] = []
        self._cache: dict[str, SectionTable] = {}  # every section of the dump in hand
        self.active = False
        self._stale = True
        self.history: HistoryUpdate | None = None
        self._history_endpoint: AdminEndpoint | None = None

    def compose(self) -> ComposeResult:
        yield Tabs(
            *[Tab(s, id=f"section-{s}") for s in ALL_SECTIONS],
            active=f"section-{self.section}",
            id="config-sections",
        )
        yield FilterBox(back_to=lambda: self.table, placeholder="filter rows: any text", id="config-filter")
        yield StateLine("Select a pod with a sidecar to see its config.", id="config-state")
        yield ConfigTable(id="config-table")
        tree: Tree[Any] = Tree("", id="config-tree")
        tree.show_root = False
        yield tree

    @property
    def table(self) -> ConfigTable:
        return self.query_one(ConfigTable)

    def _release(self) -> None:
        """Give back the previous pod's endpoints (their shares of the port-forward)."""
        if self.endpoint is not None:
            self.run_worker(self.endpoint.close(), exit_on_error=False)
        if self._history_endpoint is not None:
            self.run_worker(self._history_endpoint.close(), exit_on_error=False)
            self._history_endpoint = None

    @work(exclusive=True, group="config-history", exit_on_error=False)
    async def _watch_history(self, endpoint: AdminEndpoint) -> None:
        """While the pod is selected (shown or not), each config version it takes is kept."""
        self._history_endpoint, self.history = endpoint, None
        # a pod the cursor only passes over costs nothing: its first /config_dump (megabytes
        # on a gateway) is read once it has stayed selected a moment
        await asyncio.sleep(SETTLE_S)
        async for update in HistoryFeed(endpoint).updates():
            self.post_message(ConfigHistoryUpdated(update))

    @on(ConfigHistoryUpdated)
    def _history_updated(self, message: ConfigHistoryUpdated) -> None:
        self.history = message.update

    def action_history(self) -> None:
        h = self.history
        if h is None or not h.versions:
            self.notify(h.error if h and h.error else "no config version read yet from this proxy", timeout=6)
            return
        self.app.push_screen(ConfigHistoryScreen(h.label, h.versions))

    def attach(self, new_endpoint: Callable[[], AdminEndpoint]) -> None:
        self._release()
        self._watch_history(new_endpoint())
        endpoint = new_endpoint()
        self.endpoint, self.doc, self.tracing, self._stale = endpoint, None, None, True
        self._cache.clear()
        self._render_rows()
        if self.active:
            self._fetch()

    def detach(self, why: str, *, keep: bool = False) -> None:
        self.workers.cancel_group(self, "config-fetch")
        self.workers.cancel_group(self, "config-history")
        self._release()
        if keep:  # what the pod was told stays readable; nothing reads it again
            self.endpoint = None
            self._state(why, error=True)
            return
        self.endpoint, self.doc, self.tracing = None, None, None
        self._cache.clear()
        self._render_rows()
        self._state(why)

    def status(self) -> ViewStatus:
        return ViewStatus()  # read once per pod (r reads again): nothing live to report

    def set_shown(self, shown: bool) -> None:
        self.active = active = shown
        if active and self._stale and self.endpoint is not None:
            self._fetch()

    @work(exclusive=True, group="config-fetch", exit_on_error=False)
    async def _fetch(self) -> None:
        endpoint = self.endpoint
        if endpoint is None:
            return
        self._state(f"fetching /config_dump from {endpoint.label} ...")
        admin = None
        try:
            admin = EnvoyAdmin(await endpoint.url(), timeout=15)
            body = await admin.config_dump({"include_eds": ""})
            # a gateway's dump runs to megabytes: read off the event loop, keys go on meanwhile
            doc = await asyncio.to_thread(parse_config_dump, body)
            # the dump in hand has the bootstrap: only the collector's counters are read
            tracing = await read_tracing_health(admin, bootstrap_of(doc))
            # every section's rows at once, so a section key only paints (a first visit to a
            # gateway's 2,000 routes took 65 ms)
            tables = await asyncio.to_thread(section_tables, doc, tracing)
        except (AdminError, ConfigDumpError, OSError) as exc:
            self._state(endpoint.explain(str(exc)), error=True)
            return
        finally:
            if admin is not None:
                await admin.aclose()
        if endpoint is not self.endpoint:
            return
        self.doc, self.tracing, self._stale = doc, tracing, False
        self._cache = tables
        self._render_rows()

    def _section_rows(self) -> SectionTable:
        return self._cache.get(self.section) or SectionTable(
            [], [], [], [[] for _ in COLUMNS[self.section]], ""
        )

    def column_limit(self) -> int:
        """The widest a column gets: MAX_COLUMN, or half the pane when that is narrower."""
        width = self.size.width
        return min(MAX_COLUMN, max(24, width // 2)) if width else MAX_COLUMN

    def _render_rows(self) -> None:
        found, texts, search, lengths, error = self._section_rows()
        text = self.text_filter.lower()
        picked = [i for i, row in enumerate(search) if text in row] if text else list(range(len(found)))
        self.shown = [found[i] for i in picked]
        # istioctl proxy-config's columns and values (envoy/config_dump.py COLUMNS), as `meshtui
        # config`; a long value (a route's domains) keeps both ends, within half the pane (a
        # value cut again at the pane's edge lost its end); the JSON tree below has it whole
        self.table.show(COLUMNS[self.section], texts, lengths, picked, self.column_limit())
        if self.doc is None and self.section != "tracing":
            return
        note = ""
        if self.section == "tracing" and self.tracing is not None and self.tracing.problems:
            note = "  ✗ " + "; ".join(self.tracing.problems)
        if error:
            self._state(error, error=True)
        elif not found and self.section in EMPTY:
            self._state(f"{self.section}: {EMPTY[self.section]}")
        else:
            self._state(f"{self.section}: {len(self.shown)} of {len(found)} rows{note}", error=bool(note))
        self._show_tree()

    def _show_tree(self) -> None:
        tree = self.query_one("#config-tree", Tree)
        if not self.shown or not self.table.rows:
            tree.clear()
            return
        row = self.shown[min(self.table.cursor, len(self.shown) - 1)]
        json_tree(tree, row.get("_raw", public(row)), search=self.text_filter.lower())

    def _state(self, text: str, error: bool = False) -> None:
        self.query_one("#config-state", StateLine).say(text, error)

    @on(Tabs.TabActivated, "#config-sections")
    def _section_changed(self, event: Tabs.TabActivated) -> None:
        self.section = str(event.tab.id).removeprefix("section-")
        self._render_rows()

    @on(ConfigTable.Highlighted, "#config-table")
    def _row(self) -> None:
        self._show_tree()

    @on(Input.Changed, "#config-filter")
    def _filter(self, event: Input.Changed) -> None:
        self.text_filter = event.value.strip()
        self._render_rows()

    def action_focus_filter(self) -> None:
        self.query_one(FilterBox).open()

    def action_refresh_now(self) -> None:
        self._stale = True
        self._fetch()

    def action_show_object(self) -> None:
        """The Istio object istiod marked the selected route or cluster with (its metadata)."""
        if self.section not in OBJECT_OF or not self.shown:
            self.notify("enter shows the Istio object behind a route (Routes) or a cluster (Clusters)")
            return
        row = self.shown[min(self.table.cursor, len(self.shown) - 1)]
        what = (
            f"route {row.get('vhost', '')} {row.get('match', '')}"
            if self.section == "routes"
            else row["name"]
        )
        path = str(row.get("_config_path", ""))
        if not path:
            self.notify(f"no {OBJECT_OF[self.section]} made {what}: istiod's defaults", timeout=6)
            return
        ref = ConfigRef.parse(path)
        if ref is None:
            self.notify(
                f"istiod marked {what} with {path}: not an object path meshtui can read", severity="warning"
            )
            return
        self.post_message(ShowConfigObject(ref, made=what))

    def action_section(self, step: int) -> None:
        i = (ALL_SECTIONS.index(self.section) + step) % len(ALL_SECTIONS)
        self.query_one(Tabs).active = f"section-{ALL_SECTIONS[i]}"
