"""The Control plane place's messages."""

from __future__ import annotations

from meshtui.istiod.live import IstiodUpdate
from meshtui.ui.messages import LiveUpdate


class IstiodUpdated(LiveUpdate):
    """A poll of istiod; a newer one replaces a queued older one."""

    def __init__(self, update: IstiodUpdate) -> None:
        super().__init__()
        self.update = update
