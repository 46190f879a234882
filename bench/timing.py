"""Key latency as the app lives it: from a key arriving through the driver, as a
terminal's would, to the first screen update (`App._display`, the compositor's output)
made after the app has handled it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual import events
from textual.app import App


async def timed_key(app: App[object], key: str, char: str | None, handled: Callable[[], bool]) -> float:
    """ms from sending the key to the first screen update at which `handled()` holds."""
    painted: list[float] = []
    original = app._display

    def display(screen, renderable):  # type: ignore[no-untyped-def]
        original(screen, renderable)
        # checked here, not by polling: the first update made once the key was handled
        if renderable is not None and not painted and handled():
            painted.append(time.perf_counter())

    app._display = display  # type: ignore[method-assign]
    try:
        event = events.Key(key, char)
        event.set_sender(app)
        start = time.perf_counter()
        app._driver.send_message(event)  # type: ignore[union-attr]
        for _ in range(4000):
            if painted:
                break
            await asyncio.sleep(0.0005)
        assert painted, f"key {key!r} was not handled and painted within 2 s"
        return (painted[0] - start) * 1000
    finally:
        app._display = original  # type: ignore[method-assign]
