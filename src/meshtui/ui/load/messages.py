"""The Load place's messages."""

from __future__ import annotations

from meshtui.load.generator import LoadSnapshot
from meshtui.ui.messages import LiveUpdate


class LoadUpdated(LiveUpdate):
    """A second of the run (or its end); a newer one replaces a queued older one."""

    def __init__(self, update: LoadSnapshot) -> None:
        super().__init__()
        self.update = update
