"""How every live view shows a stale source (the rule is in meshtui/live.py).

A pane calls `show_freshness` with each update: while the source is stale its data
widgets carry the `stale` class (dimmed by `.stale` in meshtui.tcss) and the pane's
state line reads "stale since HH:MM:SS: <why>, retrying". Blanking rates is the
pane's part: it shows its snapshot's `without_changes()` until fresh data arrives.
"""

from __future__ import annotations

from textual.widget import Widget

from meshtui.live import Freshness


def show_freshness(fresh: Freshness, *data: Widget) -> bool:
    """Dim (or undim) the widgets that hold the source's figures; True when stale."""
    for widget in data:
        widget.set_class(fresh.stale, "stale")
    return fresh.stale


def stale_line(fresh: Freshness, fallback: str) -> str:
    return fresh.state_line() or fallback
