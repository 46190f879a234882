"""The Events place's rows: newest first, time, kind, object and what happened, as a
Line-API table keyed by the entry's place in the ring (10,000 rows scroll and filter
without a DataTable's per-row widgets)."""

from __future__ import annotations

import time

from rich.segment import Segment

from meshtui.events.model import MeshEvent
from meshtui.ui.format import middle_truncate
from meshtui.ui.widgets.rows_view import RowsView

TIME_W, KIND_W = 12, 14
# what reads as trouble in a summary: the row is drawn in the error colour
TROUBLE = ("NACK", "restarted", "not ready", "disconnected", "deleted", "not acked", "watch:", "istiod:")


def clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"


def matches(e: MeshEvent, want: str) -> bool:
    return want in e.kind.lower() or want in e.object.lower() or want in e.summary.lower()


def trouble(e: MeshEvent) -> bool:
    return bool(e.detail.get("problem")) or any(word in e.summary for word in TROUBLE)


class EventsTable(RowsView):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: dict[str, MeshEvent] = {}
        self.text_filter = ""

    def show(self, events: list[MeshEvent], follow: bool) -> None:
        """`events` oldest first; shown newest first. `follow`: the cursor stays on the newest."""
        want = self.text_filter.lower()
        kept = [e for e in events if not want or matches(e, want)]
        self.entries = {str(e.seq): e for e in kept}
        rows = [str(e.seq) for e in reversed(kept)]
        self.set_rows(rows, keep=rows[0] if follow and rows else self.current)

    def _object_width(self, width: int) -> int:
        return max(16, min(52, (width - TIME_W - KIND_W - 3) * 2 // 5))

    def header_text(self, width: int) -> str:
        return f"{'TIME':<{TIME_W}} {'KIND':<{KIND_W}} {'OBJECT':<{self._object_width(width)}} WHAT HAPPENED"

    def row_segments(self, key: str, width: int) -> list[Segment]:
        e = self.entries.get(key)
        if e is None:
            return []
        obj_w = self._object_width(width)
        style = self.style_of("rows-view--bad") if trouble(e) else None
        return [
            Segment(f"{clock(e.time):<{TIME_W}} ", self.style_of("rows-view--dim")),
            Segment(f"{middle_truncate(e.kind, KIND_W):<{KIND_W}} "),
            Segment(f"{middle_truncate(e.object, obj_w):<{obj_w}} "),
            Segment(e.summary, style),
        ]

    def record(self, key: str) -> dict[str, object]:
        e = self.entries.get(key)
        return e.as_json() if e is not None else {}
