"""The Events place's messages."""

from __future__ import annotations

from textual.message import Message

from meshtui.events.model import MeshEvent


class EventsRecorded(Message):
    """New timeline entries, in the order they happened (a burst comes as one message)."""

    def __init__(self, events: tuple[MeshEvent, ...]) -> None:
        super().__init__()
        self.events = events
