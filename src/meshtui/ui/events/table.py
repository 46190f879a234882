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


# kubectl's short names, for a narrow KIND column (`kubectl get vs` is how users say it)
SHORT = {
    "VirtualService": "vs",
    "DestinationRule": "dr",
    "ServiceEntry": "se",
    "PeerAuthentication": "pa",
    "AuthorizationPolicy": "ap",
    "RequestAuthentication": "ra",
    "Deployment": "deploy",
}


def kind_cell(kind: str, width: int) -> str:
    return middle_truncate(kind if len(kind) <= width else SHORT.get(kind, kind), width)


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

    @staticmethod
    def _widths(width: int) -> tuple[int, int, int]:
        """(time, kind, object) columns; what happened takes the rest. Narrow: seconds, not
        milliseconds, and shorter kinds, so the summary keeps its room."""
        wide = width >= 120
        time_w, kind_w = (TIME_W, KIND_W) if wide else (8, 10)
        return time_w, kind_w, max(16, min(52, (width - time_w - kind_w - 3) * 2 // 5))

    def header_text(self, width: int) -> str:
        time_w, kind_w, obj_w = self._widths(width)
        return f"{'TIME':<{time_w}} {'KIND':<{kind_w}} {'OBJECT':<{obj_w}} WHAT HAPPENED"

    def row_segments(self, key: str, width: int) -> list[Segment]:
        e = self.entries.get(key)
        if e is None:
            return []
        time_w, kind_w, obj_w = self._widths(width)
        room = max(width - time_w - kind_w - obj_w - 3, 8)
        summary = e.summary if len(e.summary) <= room else e.summary[: room - 1] + "…"  # d: all of it
        style = self.style_of("rows-view--bad") if trouble(e) else None
        return [
            Segment(f"{clock(e.time)[:time_w]:<{time_w}} ", self.style_of("rows-view--dim")),
            Segment(f"{kind_cell(e.kind, kind_w):<{kind_w}} "),
            Segment(f"{middle_truncate(e.object, obj_w):<{obj_w}} "),
            Segment(summary, style),
        ]

    def record(self, key: str) -> dict[str, object]:
        e = self.entries.get(key)
        return e.as_json() if e is not None else {}
