"""Paint as soon as there is something to paint, at most once a frame.

Textual paints a screen from a 60 Hz timer that it resumes when a widget is dirty. The
timer ticks on a fixed grid, and after a late tick it skips to the grid point after the
next one (textual/timer.py, `Timer._run`: `count = int((now - start) / interval + 1)`,
then `next_timer = start + (count + 1) * interval`). So a filter key typed just after a
paint (a stats tick, the scrollbar's own repaint) waited 17-33 ms for its frame: at
214,000 stats most of the keys over 30 ms were that wait, not work
(bench/keystroke.py). The pacer paints on the next turn of the event loop when the last
paint is a frame old, else when it becomes one.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

from textual.screen import UPDATE_PERIOD

from meshtui.ui.textual_compat import PaintHookScreen


class FramePacer:
    """Stands in for a screen's update timer: Textual calls `resume()` when the screen is
    idle with dirty widgets, and `pause()` when it has painted or laid out."""

    def __init__(self, paint: Callable[[], None], period: float = UPDATE_PERIOD) -> None:
        self._paint = paint
        self._period = period
        self._last = -math.inf  # loop time of the last paint
        self._pending: asyncio.TimerHandle | None = None
        self.paints = 0

    def resume(self) -> None:
        if self._pending is not None:
            return  # a paint is already on its way
        loop = asyncio.get_running_loop()
        wait = max(0.0, self._last + self._period - loop.time())
        self._pending = loop.call_later(wait, self._tick)

    def pause(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    stop = pause

    def _tick(self) -> None:
        self._pending = None
        self._last = asyncio.get_running_loop().time()
        self.paints += 1
        self._paint()


class PacedScreen(PaintHookScreen):
    """The app's main screen, painted by a `FramePacer` instead of Textual's grid timer
    (the hook it overrides: ui/textual_compat.py)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pacer = FramePacer(self.paint)

    def paint_timer(self) -> FramePacer:
        return self.pacer

    def on_unmount(self) -> None:
        self.pacer.stop()
