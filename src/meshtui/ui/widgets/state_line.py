"""A view's one-line state: what it shows (`678 of 678 stats from catalog:15000`) or why
not (`stale since 17:05:32: ..., retrying`, in the theme's error colour). Every pane has
one. The text is shown as it is, never as markup: an error line quotes Envoy, istiod or
the API server, whose words may hold brackets."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StateLine(Static):
    DEFAULT_CSS = """
    StateLine { height: 1; color: $text-muted; padding: 0 1; }
    StateLine.error { color: $error; text-style: bold; }
    """

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(Text(text), id=id)
        self.text = text

    def say(self, text: str, error: bool = False) -> None:
        if text != self.text:
            self.text = text
            # a fixed one-line height (the default) needs no new layout for new words
            self.update(Text(text), layout=self.styles.height is None or not self.styles.height.is_cells)
        self.set_class(error, "error")
