"""The proxy pane: the selected sidecar's log levels, changed with revert, and reset counters.

Every change asks first and is refused under --read-only. Levels changed here go back
to what they were when meshtui exits, or after the delay the user picks.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from meshtui.envoy.admin import AdminError, EnvoyAdmin
from meshtui.envoy.controls import LEVELS, LogLevelChanges, log_levels, reset_counters, set_log_levels
from meshtui.envoy.live import AdminEndpoint
from meshtui.ui.messages import Acted
from meshtui.ui.screens.confirm import ChoiceScreen, ConfirmScreen
from meshtui.ui.views import ViewStatus
from meshtui.ui.widgets.filter_box import FilterBox
from meshtui.ui.widgets.keys import into_box, refresh_key
from meshtui.ui.widgets.state_line import StateLine
from meshtui.ui.widgets.table import Table

REVERT_CHOICES = {
    "when meshtui exits": None,
    "after 1 minute": 60,
    "after 5 minutes": 300,
    "after 15 minutes": 900,
}


class ProxyPane(Widget):
    BINDINGS = [
        Binding(
            "l",
            "set_level",
            "Log level",
            tooltip="Change the selected logger's level (asks first)",
            id="set_level",
        ),
        # a, t and r are in the help (?), not the footer: at 80 columns it would push ? and q off
        Binding(
            "a",
            "set_all",
            "All loggers",
            show=False,
            tooltip="Change every logger's level (asks first)",
            id="set_all",
        ),
        Binding(
            "v", "revert", "Revert", tooltip="Put back the levels meshtui changed on this proxy", id="revert"
        ),
        Binding(
            "t",
            "revert_timer",
            "Revert when",
            show=False,
            tooltip="Revert levels on exit, or after 1, 5 or 15 minutes",
            id="revert_timer",
        ),
        Binding(
            "R",
            "reset_counters",
            "Reset counters",
            tooltip="POST /reset_counters (asks first)",
            id="reset_counters",
        ),
        refresh_key("Read the log levels again", show=False),
        into_box(Binding("slash", "find", "Find", tooltip="Find a logger by part of its name", id="find")),
    ]

    HELP_ENTER = "Change the selected logger's level (asks first)"  # enter on a row: see _row_selected

    def __init__(self, read_only: bool = False, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.read_only = read_only
        self.endpoint: AdminEndpoint | None = None
        self.levels: dict[str, str] = {}
        self.revert_after: int | None = None
        # per proxy (endpoint label): how to reach it again, and what to put back
        self.pending: dict[str, tuple[Callable[[], AdminEndpoint], LogLevelChanges]] = {}
        self._new_endpoint: Callable[[], AdminEndpoint] | None = None
        self.active = False

    def compose(self) -> ComposeResult:
        yield Static("", id="proxy-policy")
        yield StateLine("Select a pod with a sidecar to see its log levels.", id="proxy-state")
        yield FilterBox(
            back_to=lambda: self.table,
            hides=True,
            clears=True,
            placeholder="find a logger: part of its name",
            id="loggers-find",
        )
        table: DataTable[str] = Table(id="loggers-table", cursor_type="row")
        for col in ("LOGGER", "LEVEL", "WAS (meshtui changed it)"):
            table.add_column(col, key=col)
        yield table

    def on_mount(self) -> None:
        self.set_interval(1.0, self._revert_due)
        self._show_policy()

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#loggers-table", DataTable)

    def attach(self, new_endpoint: Callable[[], AdminEndpoint]) -> None:
        self._release()
        self._new_endpoint = new_endpoint
        self.endpoint = new_endpoint()
        self.levels = {}
        self._show_levels()
        if self.active:
            self._load()

    def detach(self, why: str, *, keep: bool = False) -> None:
        self._release()
        if keep:  # the levels it had stay readable; no change can reach a pod that is gone
            self.endpoint, self._new_endpoint = None, None
            self._state(why, error=True)
            return
        self.endpoint, self._new_endpoint, self.levels = None, None, {}
        self._show_levels()
        self._state(why)

    def _release(self) -> None:
        if self.endpoint is not None:
            self.run_worker(self.endpoint.close(), exit_on_error=False)

    def status(self) -> ViewStatus:
        return ViewStatus()  # log levels are read when shown: nothing live to report

    def set_shown(self, shown: bool) -> None:
        self.active = active = shown
        if active and self.endpoint is not None and not self.levels:
            self._load()

    # -- calls -------------------------------------------------------------------------

    async def _admin(self, endpoint: AdminEndpoint) -> EnvoyAdmin:
        return EnvoyAdmin(await endpoint.url(), read_only=self.read_only)

    @work(exclusive=True, group="proxy-call", exit_on_error=False)
    async def _load(self) -> None:
        await self._call(None)

    async def _call(self, change: dict[str, str] | None, reset: bool = False) -> None:
        endpoint = self.endpoint
        if endpoint is None:
            return
        admin = await self._admin(endpoint)
        try:
            before = await log_levels(admin)
            if change is not None:
                after = await set_log_levels(admin, change)
                changes = self._changes_for(endpoint)
                changes.record(before, change)
                if self.revert_after is not None:
                    changes.revert_at = time.monotonic() + self.revert_after
                self.notify(
                    f"{endpoint.label}: {len(change)} logger(s) set; {self._policy_text()}", timeout=4
                )
                said = ", ".join(f"{name}={level}" for name, level in sorted(change.items()))
                self.post_message(Acted(endpoint.label, f"log levels set: {said}", loggers=change))
                before = after
            if reset:
                await reset_counters(admin)
                self.notify(f"{endpoint.label}: counters reset", timeout=4)
                self.post_message(Acted(endpoint.label, "counters reset (POST /reset_counters)"))
        except (AdminError, OSError) as exc:
            self._state(endpoint.explain(str(exc)), error=True)
            return
        finally:
            await admin.aclose()
        if endpoint is self.endpoint:
            self.levels = before
            self._show_levels()

    def _changes_for(self, endpoint: AdminEndpoint) -> LogLevelChanges:
        label = endpoint.label
        if label not in self.pending:
            assert self._new_endpoint is not None
            self.pending[label] = (self._new_endpoint, LogLevelChanges())
        return self.pending[label][1]

    async def revert_all(self, only_due: bool = False) -> list[str]:
        """Put levels back on every proxy meshtui changed (all, or those whose time came)."""
        done = []
        for label, (make, changes) in list(self.pending.items()):
            if not changes.original or (only_due and not changes.due()):
                continue
            endpoint = make()
            try:
                admin = await self._admin(endpoint)
                try:
                    await changes.revert(admin)
                finally:
                    await admin.aclose()
                done.append(label)
                self.post_message(Acted(label, "log levels put back as they were"))
            except (AdminError, OSError) as exc:
                self.notify(f"could not revert log levels on {label}: {exc}", severity="error")
            finally:
                await endpoint.close()
        return done

    async def _revert_due(self) -> None:
        if any(c.due() for _, c in self.pending.values()):
            for label in await self.revert_all(only_due=True):
                self.notify(f"{label}: log levels reverted", timeout=4)
            if self.endpoint is not None:
                self._load()

    # -- drawing -----------------------------------------------------------------------

    def _show_levels(self) -> None:
        table = self.table
        keep = self.current  # the logger just changed keeps the cursor through the refill
        table.clear()
        was = {}
        if self.endpoint is not None and self.endpoint.label in self.pending:
            was = self.pending[self.endpoint.label][1].original
        for name, level in sorted(self.levels.items()):
            table.add_row(name, level, was.get(name, ""), key=name)
        if keep is not None and keep in self.levels:
            table.move_cursor(row=table.get_row_index(keep))
        self._summary()

    def _summary(self) -> None:
        if self.endpoint is not None and self.levels:
            original = self.pending.get(self.endpoint.label)
            was = original[1].original if original else {}
            changed = f", {len(was)} changed by meshtui" if was else ""
            self._state(f"{len(self.levels)} loggers on {self.endpoint.label}{changed}")

    def _policy_text(self) -> str:
        if self.read_only:
            return "read-only: changes are refused"
        if self.revert_after is None:
            return "levels changed here are reverted when meshtui exits"
        return f"levels changed here are reverted after {self.revert_after // 60} min"

    def _show_policy(self) -> None:
        self.query_one("#proxy-policy", Static).update(self._policy_text())

    def _state(self, text: str, error: bool = False) -> None:
        self.query_one("#proxy-state", StateLine).say(text, error)

    # -- keys --------------------------------------------------------------------------

    def _refuse(self, what: str) -> bool:
        if self.read_only:
            self._state(f"refused: {what} changes the proxy, and meshtui runs --read-only", error=True)
            self.notify(f"--read-only: {what} refused", severity="warning")
            return True
        if self.endpoint is None:
            self._state("select a pod with a sidecar first", error=True)
            return True
        return False

    @property
    def current(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _ask_level(self, loggers: list[str], title: str) -> None:
        current = self.levels.get(loggers[0]) if len(loggers) == 1 else None

        def chosen(level: str | None) -> None:
            if level is None:
                return
            target = "every logger" if len(loggers) > 1 else loggers[0]

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._apply({name: level for name in loggers})

            label = self.endpoint.label if self.endpoint else "?"
            self.app.push_screen(ConfirmScreen(f"Set {target} to [b]{level}[/b] on {label}?"), confirmed)

        self.app.push_screen(ChoiceScreen(title, list(LEVELS), current), chosen)

    @work(exclusive=True, group="proxy-call", exit_on_error=False)
    async def _apply(self, change: dict[str, str]) -> None:
        await self._call(change)

    def action_set_level(self) -> None:
        if self._refuse("changing a log level") or not self.current:
            return
        self._ask_level([self.current], f"level for logger {self.current}")

    def action_set_all(self) -> None:
        if self._refuse("changing log levels") or not self.levels:
            return
        self._ask_level(sorted(self.levels), "level for every logger")

    def action_revert(self) -> None:
        if self._refuse("reverting log levels"):
            return
        self._revert_now()

    @work(exclusive=True, group="proxy-call", exit_on_error=False)
    async def _revert_now(self) -> None:
        for label in await self.revert_all():
            self.notify(f"{label}: log levels reverted", timeout=4)
        await self._call(None)

    def action_revert_timer(self) -> None:
        def chosen(choice: str | None) -> None:
            if choice is not None:
                self.revert_after = REVERT_CHOICES[choice]
                self._show_policy()

        self.app.push_screen(ChoiceScreen("revert levels changed here", list(REVERT_CHOICES)), chosen)

    def action_reset_counters(self) -> None:
        if self._refuse("resetting counters"):
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._reset()

        label = self.endpoint.label if self.endpoint else "?"
        self.app.push_screen(ConfirmScreen(f"Reset every counter of {label} to zero?"), confirmed)

    @work(exclusive=True, group="proxy-call", exit_on_error=False)
    async def _reset(self) -> None:
        await self._call(None, reset=True)

    def action_refresh_now(self) -> None:
        self._load()

    def action_find(self) -> None:
        self.query_one(FilterBox).open()

    @on(Input.Changed, "#loggers-find")
    def _find(self, event: Input.Changed) -> None:
        text = event.value.strip().lower()
        names = sorted(self.levels)
        # a name that starts with it first, then one that contains it
        hit = next((n for n in names if n.lower().startswith(text)), None) if text else None
        hit = hit or next((n for n in names if text and text in n.lower()), None)
        if hit is not None:
            self.table.move_cursor(row=self.table.get_row_index(hit))
        missed = bool(text) and hit is None
        event.input.set_class(missed, "error")
        if missed:  # said, not only coloured: the cursor stays on the last logger that matched
            self._state(f"no logger matches {text!r} ({len(names)} loggers)", error=True)
        else:
            self._summary()

    @on(DataTable.RowSelected, "#loggers-table")
    def _row_selected(self) -> None:
        self.action_set_level()
