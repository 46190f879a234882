"""A view's filter (or find) box, written once for every view that has one.

`/` opens it focused at once (`open`), so keys typed fast land in it; typing filters as
the view says (its Input.Changed handler, or `on_value` in the same call as the key, for
the 50,000-row stats); enter and esc hand the keys back to the view (`back_to`). A box
that `hides` shows only while in use (the pods filter, the loggers find); one that
`clears` forgets its text on leaving (a find, unlike a filter, is not a lasting view).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input

from meshtui.ui.textual_compat import QuietWidthInput


class FilterBox(QuietWidthInput):
    # shown: in the box the footer has little else to say (the app's keys are text here)
    BINDINGS = [Binding("escape", "leave_filter", "Back", tooltip="Back to the view", id="leave_filter")]

    def __init__(
        self,
        value: str = "",
        *,
        back_to: Callable[[], Widget],
        hides: bool = False,
        clears: bool = False,
        on_value: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        self._on_value = on_value  # before Input's init, which may already set the value
        super().__init__(value, classes="hidden" if hides else "", **kwargs)
        self.back_to = back_to
        self.hides = hides
        self.clears = clears
        self.on_enter = lambda _value: self.leave()  # as enter arrives (OrderedInput)

    def watch_value(self, value: str) -> None:
        if self._on_value is not None:
            self._on_value(value)

    def open(self) -> None:
        if self.hides:
            self.remove_class("hidden")
            self.display = True  # at once: a class change applies at the next refresh
        self.screen.set_focus(self)  # now, not after the keys already queued (focus() defers)

    def leave(self) -> None:
        if self.clears:
            self.value = ""
        if self.hides and not self.value.strip():
            self.add_class("hidden")
            self.display = False
        self.screen.set_focus(self.back_to())  # at once: the keys after enter are the view's

    def action_leave_filter(self) -> None:
        if self.has_focus:
            self.leave()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.has_focus:  # enter handled as it came (on_enter) has moved on already
            self.leave()
