"""The bar at the top: where you are, the other places and their keys, and `:`."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import Static

from meshtui.ui.views import Place


class PlacesBar(Static):
    DEFAULT_CSS = """
    PlacesBar { height: 1; background: $panel; padding: 0 1; }
    """

    class Clicked(Message):
        def __init__(self, place_id: str) -> None:
            super().__init__()
            self.place_id = place_id

    def __init__(self, places: tuple[Place, ...], *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.places = places
        self.current = places[0].id
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.show(self.current)

    def show(self, place_id: str) -> None:
        self.current = place_id
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("meshtui ", "bold")
        self._spans = []
        for i, place in enumerate(self.places, start=1):
            start = len(t.plain)
            if place.id == place_id:
                t.append(f" {i} {place.title} ", "reverse bold")
            else:
                t.append(f" {i} ", "bold").append(f"{place.title} ", "dim")
            self._spans.append((start, len(t.plain), place.id))
        t.append("   : go to   ? help", "dim")
        self.update(t)

    def on_click(self, event: events.Click) -> None:
        x = event.x - 1  # the left padding
        for start, end, place_id in self._spans:
            if start <= x < end:
                self.post_message(self.Clicked(place_id))
