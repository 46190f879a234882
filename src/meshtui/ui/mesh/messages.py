"""The Mesh place's messages."""

from __future__ import annotations

from meshtui.prometheus.feed import MeshUpdate
from meshtui.ui.messages import LiveUpdate


class MeshUpdated(LiveUpdate):
    """A refresh from Prometheus; a newer one replaces a queued older one."""

    def __init__(self, update: MeshUpdate) -> None:
        super().__init__()
        self.update = update
