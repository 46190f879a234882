"""Every Textual private hook meshtui relies on, in one place, each with why and a fallback.

pyproject.toml pins Textual to the releases these are checked on; tests/test_textual_compat.py
fails when a release renames or reshapes one, so an upgrade shows what to look at again.

1. A screen paints from its update timer (`Screen._update_timer`, a property that
   `_on_idle`/`_refresh_layout` call `resume()`/`pause()` on) through
   `Screen._on_timer_update()`. The frame pacer (ui/frames.py) stands in for the timer:
   a key's frame comes on the next loop turn rather than up to two 60 Hz ticks later.
   Without the hooks the screen keeps Textual's timer.
2. `Input._watch_value` grows the box's virtual width by a cell per key, and a virtual
   size change lays out the whole screen: the stats filter sets it quietly first.
3. The screen as text for `e`/`S` exports and the tests: the compositor's full render
   (`Screen._compositor.render_update`, `App._background_screens`), as
   `App.export_screenshot` renders it, but as plain lines.
"""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from textual.app import App
from textual.geometry import Size
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input

PAINT_HOOKS = isinstance(getattr(Screen, "_update_timer", None), property) and callable(
    getattr(Screen, "_on_timer_update", None)
)


class PaintHookScreen(Screen[object]):
    """A screen whose paint timer the subclass gives (`paint_timer`); `paint()` paints now."""

    def paint_timer(self) -> Any:
        """What Textual resumes and pauses instead of its timer (resume/pause/stop)."""
        raise NotImplementedError

    @property
    def _update_timer(self) -> Timer:
        if not PAINT_HOOKS:
            return Screen._update_timer.fget(self)  # type: ignore[attr-defined]
        return self.paint_timer()

    def paint(self) -> None:
        try:
            self._on_timer_update()
        except Exception as error:  # as Textual's Timer does: the app shows it and exits
            self.app._handle_exception(error)


class QuietWidthInput(Input):
    def _watch_value(self, value: str) -> None:
        # Input grows its virtual width by a cell per key, and a virtual size change lays
        # out the whole screen and repaints every widget (most of a keystroke at 214,000
        # stats). The box's own scroll width is all that changed: set it quietly first,
        # so Input's own assignment finds it equal and lays nothing out.
        self.set_reactive(Input.virtual_size, Size(self.content_width, 1))
        super()._watch_value(value)


def screen_render(app: App[Any]) -> RenderableType:
    """The whole screen (with the screens under a modal), as the compositor paints it."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return update if update is not None else ""
