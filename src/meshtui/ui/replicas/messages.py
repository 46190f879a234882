"""The Replicas place's messages."""

from __future__ import annotations

from meshtui.replicas.feed import ReplicasUpdate
from meshtui.ui.messages import LiveUpdate


class ReplicasUpdated(LiveUpdate):
    """A poll of every replica; a newer one replaces a queued older one."""

    def __init__(self, update: ReplicasUpdate) -> None:
        super().__init__()
        self.update = update
