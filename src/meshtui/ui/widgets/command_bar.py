"""k9s's `:` command mode: type a view's name (`istiod`, `traces`, `pods`), enter goes there."""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input

from meshtui.ui.textual_compat import OrderedInput
from meshtui.ui.views import PROXIES, resolve, resolve_tab, words


class CommandBar(OrderedInput):
    DEFAULT_CSS = """
    CommandBar { dock: bottom; height: 3; display: none; }
    CommandBar.open { display: block; }
    """
    BINDINGS = [Binding("escape", "close", "Close", tooltip="Close the command line", id="close")]

    class Go(Message):
        def __init__(self, place_id: str, tab: str | None = None) -> None:
            super().__init__()
            self.place_id = place_id
            self.tab = tab  # a per-pod tab (`:clusters`), in the Proxies place

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder=f"go to: {', '.join(words())}   (→ completes, enter goes, esc closes)",
            suggester=SuggestFromList(words(), case_sensitive=False),
            id=id,
        )

    def open(self) -> None:
        self.value = ""
        self.add_class("open")
        # at once, not at the next refresh (a class change) nor a message hop later
        # (focus()): the keys typed right after `:` are for this box
        self.display = True
        self.screen.set_focus(self)

    class Closed(Message):
        """Closed without going anywhere: the app gives focus back."""

    def action_close(self) -> None:
        self._close()
        self.post_message(self.Closed())

    def _close(self) -> None:
        self.remove_class("open")
        self.display = False

    def on_blur(self) -> None:
        # tab (a shell's completion key) or a click moved the focus away: the bar does not
        # stay on screen with nothing to close it
        if self.has_class("open"):
            self._close()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        tab = resolve_tab(event.value)
        if tab is not None:
            self._close()
            self.post_message(self.Go(PROXIES, tab))
            return
        place = resolve(event.value)
        if place is None:
            self.notify(f"no view called {event.value.strip()!r}: try {', '.join(words())}", severity="error")
            return
        self._close()
        self.post_message(self.Go(place.id))
