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
        """The bar with `place_id` current; as the width asks, the other places' titles
        shorten (first word, then the number alone), never the current one's."""
        self.current = place_id
        width = self.content_region.width if self.is_mounted else 0
        for level in range(4):
            t, spans = self._bar(place_id, level)
            if not width or len(t.plain) <= width:
                break
        self._spans = spans
        self.update(t)

    def _bar(self, place_id: str, level: int) -> tuple[Text, list[tuple[int, int, str]]]:
        t = Text(no_wrap=True, overflow="ellipsis")
        if level < 2:
            t.append("meshtui ", "bold")
        spans = []
        for i, place in enumerate(self.places, start=1):
            start = len(t.plain)
            if place.id == place_id:
                t.append(f" {i} {place.title} ", "reverse bold")
            elif level < 2:
                t.append(f" {i} ", "bold").append(f"{place.title} ", "dim")
            elif level == 2:
                t.append(f" {i} ", "bold").append(f"{place.title.split()[0]} ", "dim")
            else:
                t.append(f" {i}", "bold")
            spans.append((start, len(t.plain), place.id))
        if level == 0:
            t.append("   : go to   ? help", "dim")
        return t, spans

    def on_resize(self, event: events.Resize) -> None:
        self.show(self.current)

    def on_click(self, event: events.Click) -> None:
        x = event.x - 1  # the left padding
        for start, end, place_id in self._spans:
            if start <= x < end:
                self.post_message(self.Clicked(place_id))
