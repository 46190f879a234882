"""Every Textual private hook meshtui relies on, in one place, each with why and a fallback.

pyproject.toml pins Textual to the releases these are checked on; tests/ui/test_textual_compat.py
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
4. Keys typed in a burst (a paste, tmux send-keys, a fast typist) act in the order typed:
   Input inserts a printable key in its `_on_key` at once, but runs a bound key (ctrl+u,
   backspace, the arrows) only once the key event has bubbled up to the App, after the
   keys behind it (Textualize/textual#6605; the fix proposed upstream, #6631, runs the
   widget's own bindings inline as here). `ctrl+u` then `re:fault` left an empty filter.
   The widget's `_bindings`, `App._keymap` and `BindingsMap.apply_keymap` are read.
5. The Footer rebuilds all its keys (a widget each, each restyled on its own) whenever
   the screen's bindings may have changed: a focus change, a tab, a key that toggles a
   check_action. Most leave the shown keys as they were; `KeysFooter` rebuilds only when
   they differ. It reads `Footer.bindings_changed` (the signal's callback) and
   `Footer._bindings_ready`; without them it is Textual's Footer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import RenderableType
from textual import events
from textual.app import App, ComposeResult
from textual.binding import BindingsMap
from textual.geometry import Size
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input

ORDERED_KEYS = hasattr(BindingsMap, "apply_keymap") and hasattr(BindingsMap(), "key_to_bindings")
FOOTER_HOOKS = callable(getattr(Footer, "bindings_changed", None)) and hasattr(Footer, "_bindings_ready")
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


class OrderedInput(Input):
    """An Input whose own editing keys act in the order they were typed (4. above).

    `on_enter`, when set, runs as enter arrives, before the keys behind it: where the box
    hands the focus back (a Submitted handler ran after them: `/webapp` enter enter in
    one burst lost the second enter to the box)."""

    on_enter: Callable[[str], None] | None = None

    async def _on_key(self, event: events.Key) -> None:
        if self.screen.focused is not self and self.app.screen is self.screen:
            # the focus left this box while the key was on its way to it (enter, then
            # more keys in one burst): the App routes it again, to where the focus is now
            event.stop()
            event.prevent_default()
            self.app.post_message(events.Key(event.key, event.character))
            return
        # Input's own _on_key (printable keys) runs after this one unless it is prevented
        if event.is_printable or not ORDERED_KEYS:
            return
        bindings = self._bindings.copy()
        keymap = getattr(self.app, "_keymap", None)
        if keymap:
            bindings.apply_keymap(keymap)
        for binding in bindings.key_to_bindings.get(event.key, ()):
            # priority bindings were checked before the key reached the widget
            if not binding.priority and await self.app.run_action(binding.action, self):
                if binding.action == "submit" and self.on_enter is not None:
                    self.on_enter(self.value)
                event.stop()
                event.prevent_default()
                return


class QuietWidthInput(OrderedInput):
    def _watch_value(self, value: str) -> None:
        # Input grows its virtual width by a cell per key, and a virtual size change lays
        # out the whole screen and repaints every widget (most of a keystroke at 214,000
        # stats). The box's own scroll width is all that changed: set it quietly first,
        # so Input's own assignment finds it equal and lays nothing out.
        self.set_reactive(Input.virtual_size, Size(self.content_width, 1))
        super()._watch_value(value)


class KeysFooter(Footer):
    """Textual's Footer, rebuilt once for a burst of binding changes, and only when the
    keys it shows differ (5. above): a focus change rebuilt its ~10 keys, ~20 ms, and the
    start-up rebuilt them twice before they first showed."""

    _shown: tuple[tuple[object, ...], ...] | None = None
    _rebuild_pending = False

    def compose(self) -> ComposeResult:
        if FOOTER_HOOKS and not self._bindings_ready:
            # the app's own keys (? help, q quit, : go to) in the first frame already, as
            # they are then; the focused view's join them on the first rebuild
            self.set_reactive(Footer._bindings_ready, True)
            self._shown = self._keys_shown()
        yield from super().compose()

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if not FOOTER_HOOKS:
            super().bindings_changed(screen)
            return
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:  # the app closed after the rebuild was asked for
            return
        shown = self._keys_shown()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()

    def _keys_shown(self) -> tuple[tuple[object, ...], ...]:
        return tuple(
            (binding.key, binding.description, binding.action, enabled, tooltip)
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )


def screen_render(app: App[Any]) -> RenderableType:
    """The whole screen (with the screens under a modal), as the compositor paints it."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return update if update is not None else ""
