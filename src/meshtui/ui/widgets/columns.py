"""Column widths for the Line-API tables: sized to their content, then fitted to the pane.

One flexible column (a name) takes what the others leave. When the pane is narrow, the
others give way in a table's own order: dropped (width 0) or narrowed (a shorter label,
a shortened namespace). A step marked `for_whole` is taken while the name does not fit
whole; the rest only while the name would get under its minimum -- so a shortened name
(which keeps the part that tells rows apart) is preferred to losing a column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class GiveWay(NamedTuple):
    column: int
    width: int  # what it narrows to: 0 drops it
    for_whole: bool = False  # taken so the name fits whole, not only its minimum


def fit_columns(
    width: int, wants: Sequence[int], steps: Sequence[GiveWay], *, flex: int, flex_min: int
) -> list[int]:
    """Each column's width (0: gave way) in `width` cells, one space after each column."""
    widths = list(wants)

    def room() -> int:  # what the flexible column gets beside the others
        return width - sum(w + 1 for i, w in enumerate(widths) if w and i != flex)

    for step in steps:
        if room() >= (wants[flex] if step.for_whole else min(wants[flex], flex_min)):
            break
        widths[step.column] = min(widths[step.column], step.width)
    widths[flex] = max(min(wants[flex], room()), 1)
    return widths
