"""The keys several views share, spelled once: a key does the same kind of thing in every
view (as in k9s), and each view says only what it does there, in its tooltip (the help
screen and the footer show it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TypeVar

from textual.binding import Binding

S = TypeVar("S")


def into_box(binding: Binding) -> Binding:
    """A key that puts the focus in a text box, as a priority binding: the App runs it as
    the key arrives, before it hands on the keys typed after it, so they reach the box.
    (A plain binding runs only once its key has bubbled back up to the App; `/` then
    `cat` typed fast, or a paste, went to the table meanwhile.) A box already focused
    still gets the key as text: Textual drops ancestors' bindings of keys an Input takes."""
    return dataclasses.replace(binding, priority=True)


def filter_key(tooltip: str) -> Binding:
    return into_box(Binding("slash", "focus_filter", "Filter", tooltip=tooltip, id="focus_filter"))


def sort_key(tooltip: str) -> Binding:
    return Binding("o", "cycle_sort", "Sort", tooltip=tooltip, id="cycle_sort")


def next_sort(sorts: Sequence[S], current: S) -> S:
    """What `o` sorts by next: the view's sorts in turn, back to the first."""
    return sorts[(sorts.index(current) + 1) % len(sorts)]


def refresh_key(tooltip: str, *, show: bool = True) -> Binding:
    return Binding("r", "refresh_now", "Refresh", show=show, tooltip=tooltip, id="refresh_now")
