"""One entry of the mesh's timeline, and the bounded ring that holds them.

An entry says when, what kind of thing, which object and what happened in one line, with
the facts behind it in `detail` (for `--json` and the place's detail line). `at` is where
`enter` leads: a pod, a proxy's sync row, a config section.
"""

from __future__ import annotations

import datetime
import json
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

RING = 10_000  # entries kept: a day of a busy mesh's changes is far fewer


@dataclass(frozen=True, slots=True)
class MeshEvent:
    time: float  # unix seconds, when meshtui saw it (or the object's own timestamp)
    kind: str  # Pod, Deployment, VirtualService, ..., Push, Proxy, xDS, Envoy, meshtui
    object: str  # namespace/name, or a proxy id, or istiod's replica
    summary: str  # one line
    detail: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""  # kubernetes, istiod, envoy, meshtui
    seq: int = 0  # its place in the ring: a row's key

    def as_json(self) -> dict[str, Any]:
        return {
            "time": iso(self.time),
            "kind": self.kind,
            "object": self.object,
            "summary": self.summary,
            "detail": dict(self.detail),
        }

    def json_line(self) -> str:
        return json.dumps(self.as_json(), sort_keys=False, default=str)


def iso(t: float) -> str:
    """RFC 3339 in UTC with milliseconds, as kubectl and Jaeger print times."""
    moment = datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class EventLog:
    """The last RING entries, in the order they were seen; each gets the next `seq`."""

    def __init__(self, size: int = RING) -> None:
        self._ring: deque[MeshEvent] = deque(maxlen=size)
        self.next_seq = 1

    def add(self, event: MeshEvent) -> MeshEvent:
        stamped = MeshEvent(
            event.time, event.kind, event.object, event.summary, event.detail, event.source, self.next_seq
        )
        self.next_seq += 1
        self._ring.append(stamped)
        return stamped

    def since(self, seq: int) -> list[MeshEvent]:
        """The entries after `seq` still in the ring (all of them for 0)."""
        if not self._ring or self._ring[-1].seq <= seq:
            return []
        first = self._ring[0].seq
        start = max(seq + 1 - first, 0)
        return list(self._ring)[start:]

    def __iter__(self) -> Iterator[MeshEvent]:
        return iter(self._ring)

    def __len__(self) -> int:
        return len(self._ring)
