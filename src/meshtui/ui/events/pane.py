"""The Events place: what changed in the mesh, newest first, live. Pods added, ready,
restarted (with the exit code), deleted; Deployments rolled out or scaled; Istio objects
created, changed (which fields) and deleted; istiod's pushes, proxies connected or gone,
each proxy's xDS types sent, acked or rejected (NACK); meshtui's own actions.

Recording starts when the cluster connects, not when the place is first shown: the
first question after errors start is "what changed before?". The recorder
(events/recorder.py) runs in one long-lived worker and hands each entry here; a burst
arrives as one message. `/` filters, `enter` goes to the object (a pod or a proxy: its
pod; a push: the Control plane; an object: its changes), `d` shows an entry's detail.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Static

from meshtui.events.model import EventLog, MeshEvent, iso
from meshtui.events.record import Record

if TYPE_CHECKING:
    from meshtui.events.recorder import Recorder
from meshtui.kube.access import MeshAccess
from meshtui.ui.events.messages import EventsRecorded
from meshtui.ui.events.table import EventsTable
from meshtui.ui.messages import OpenPlace, RefreshStateChanged, ShowPod
from meshtui.ui.options import Options
from meshtui.ui.views import ViewStatus
from meshtui.ui.widgets.filter_box import FilterBox
from meshtui.ui.widgets.keys import filter_key
from meshtui.ui.widgets.state_line import StateLine

NO_CLUSTER = (
    "needs a Kubernetes cluster: started with --admin (the timeline watches the API server and istiod)"
)
BURST_S = 0.1  # entries that come together are shown together
ISTIOD_S = 2.0


class EventDetail(ModalScreen[None]):
    DEFAULT_CSS = """
    EventDetail { align: center middle; }
    EventDetail > VerticalScroll { width: 95%; height: 80%; border: round $accent; background: $surface; }
    """
    BINDINGS = [Binding("escape,q,d", "dismiss", "Close", id="dismiss")]

    def __init__(self, event: MeshEvent) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        e = self.event
        head = f"{iso(e.time)}  {e.kind}  {e.object}\n{e.summary}\n\n"
        with VerticalScroll():
            yield Static(head + json.dumps(dict(e.detail), indent=2, default=str), markup=False)


class EventsPane(Widget):
    DEFAULT_CSS = """
    EventsPane { height: 1fr; }
    EventsPane EventsTable { height: 1fr; }
    """
    BINDINGS = [
        filter_key("Filter the entries: kind, object or what happened"),
        Binding(
            "enter",
            "open_entry",
            "Go to",
            tooltip="A pod or proxy: its pod; a push: istiod; else: d",
            id="open_entry",
        ),
        Binding(
            "d", "detail", "Detail", tooltip="The entry's facts: what changed, codes, versions", id="detail"
        ),
    ]

    def __init__(self, options: Options, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.options = options
        self.log_ = EventLog()
        self.shown = False
        self.recording = False
        self.recorder: Recorder | None = None
        self._pending: list[MeshEvent] = []
        self._since = 0.0
        self._file: Record | None = None

    def compose(self) -> ComposeResult:
        yield FilterBox(
            back_to=lambda: self.table, hides=True, placeholder="filter entries", id="events-filter"
        )
        yield StateLine("waiting for the cluster ...", id="events-state")
        yield EventsTable(id="events-table")

    @property
    def table(self) -> EventsTable:
        return self.query_one(EventsTable)

    # -- the place protocol (ui/views.py) -------------------------------------------------

    def set_shown(self, shown: bool) -> None:
        self.shown = shown

    def status(self) -> ViewStatus:
        if not self.recording:
            return ViewStatus()
        return ViewStatus(f"events recording, {_entries(len(self.log_))}")

    def connect(self, access: MeshAccess | None) -> None:
        if access is None:
            self._state(NO_CLUSTER, error=True)
            return
        self._record(access)

    def on_place_opened(self, **arguments: object) -> None:
        self.call_after_refresh(self.table.focus)

    def export_fields(self) -> dict[str, object]:  # ui/export.py
        return {"entries": [self.table.record(k) for k in self.table.rows]}

    # -- recording ---------------------------------------------------------------------

    @work(exclusive=True, group="events", exit_on_error=False)
    async def _record(self, access: MeshAccess) -> None:
        from meshtui.events.recorder import Recorder
        from meshtui.istiod.live import IstiodFeed
        from meshtui.istiod.source import ForwardedIstiod
        from meshtui.kube.portforward import ForwardManager

        # in the background all the while: istiod every 2 s (its entries well within 5 s of a
        # change) rather than at the Control plane's pace, which polls only while shown
        every = max(self.options.interval, ISTIOD_S)
        # forwards of its own: the status line lists what the views on screen use, not the
        # timeline's background reads of every sidecar
        manager = ForwardManager(access.target)
        istiod = IstiodFeed(ForwardedIstiod(access.target, manager, self.options.istio_namespace), every)
        self.recorder = recorder = Recorder(access.target, self._emit, istiod=istiod, manager=manager)
        self.recording, self._since = True, time.time()
        self._state(f"recording since {_hm(self._since)}: nothing has changed yet")
        try:
            await recorder.run()
        finally:
            self.recording = False
            await manager.close()

    def note(self, obj: str, summary: str, detail: dict[str, object]) -> None:
        """One of meshtui's own actions (ui/messages.py Acted), listed with the rest."""
        self._emit(MeshEvent(time.time(), "meshtui", obj, summary, detail, "meshtui"))

    def _emit(self, event: MeshEvent) -> None:
        if not self._pending:
            self.set_timer(BURST_S, self._flush)
        self._pending.append(event)

    def _flush(self) -> None:
        burst, self._pending = tuple(self._pending), []
        if burst:
            self.post_message(EventsRecorded(burst))

    @on(EventsRecorded)
    def _recorded(self, message: EventsRecorded) -> None:
        for e in message.events:
            self.log_.add(e)
        if self.options.record:
            self._append(message.events)
        self._show()
        self.post_message(RefreshStateChanged())  # the status line counts them too

    def _append(self, events: tuple[MeshEvent, ...]) -> None:
        """--record DIR: each entry as a JSON line; a folder that cannot be written is said once."""
        try:
            if self._file is None:
                self._file = Record(str(self.options.record))
            for e in events:
                self._file.append(e)
        except OSError as exc:
            self.notify(
                f"--record {self.options.record}: {exc}; entries are no longer written", severity="error"
            )
            self.options = dataclasses.replace(self.options, record=None)

    def on_unmount(self) -> None:
        if self._file is not None:
            self._file.close()

    def _show(self) -> None:
        table = self.table
        follow = table.cursor == 0
        table.show(list(self.log_), follow)
        shown, total = len(table.rows), len(self.log_)
        what = (
            f"{shown} of {total} entries match '{table.text_filter}'"
            if table.text_filter
            else f"{total} entries"
        )
        self._state(f"{what}, newest first, recording since {_hm(self._since)}")

    def _state(self, text: str, error: bool = False) -> None:
        self.query_one("#events-state", StateLine).say(text, error)

    # -- keys --------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one(FilterBox).open()

    @on(Input.Changed, "#events-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.text_filter = event.value.strip()
        self._show()

    def _current(self) -> MeshEvent | None:
        return self.table.entries.get(self.table.current or "")

    def action_detail(self) -> None:
        e = self._current()
        if e is not None:
            self.app.push_screen(EventDetail(e))

    def action_open_entry(self) -> None:
        e = self._current()
        if e is None:
            return
        pod, namespace = e.detail.get("pod"), e.detail.get("namespace")
        if e.kind in ("Pod", "Proxy", "xDS") and pod and namespace:
            tab = "tab-stats" if e.kind == "Pod" else "tab-config"
            self.post_message(ShowPod(str(namespace), str(pod), tab))
        elif e.kind == "Push":
            self.post_message(OpenPlace("istiod"))
        else:
            self.app.push_screen(EventDetail(e))


def _hm(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n:,} entries"
