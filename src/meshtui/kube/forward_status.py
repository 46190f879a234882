"""What a port-forward says about itself: its state and why (the status line shows it).

Apart from kube/portforward.py so that the app's first frame, which shows forwards,
does not import the websocket client that carries them (bench/coldstart.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ForwardState(str, Enum):
    STARTING = "starting"
    UP = "up"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ForwardStatus:
    namespace: str
    pod: str
    port: int
    local_port: int
    state: ForwardState
    reason: str = ""
    since: float = 0.0
    streams: int = 0  # websocket streams opened so far

    @property
    def label(self) -> str:
        return f"{self.pod}:{self.port}"
