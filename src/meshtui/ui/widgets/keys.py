"""The keys several views share, spelled once: a key does the same kind of thing in every
view (as in k9s), and each view says only what it does there, in its tooltip (the help
screen and the footer show it)."""

from __future__ import annotations

from textual.binding import Binding


def filter_key(tooltip: str) -> Binding:
    return Binding("slash", "focus_filter", "Filter", tooltip=tooltip, id="focus_filter")


def sort_key(tooltip: str) -> Binding:
    return Binding("o", "cycle_sort", "Sort", tooltip=tooltip, id="cycle_sort")


def refresh_key(tooltip: str) -> Binding:
    return Binding("r", "refresh_now", "Refresh", tooltip=tooltip, id="refresh_now")
