"""The help screen (`?`), built from the key bindings live where it was opened."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from meshtui import __version__


def _key_label(key: str) -> str:
    names = {
        "slash": "/",
        "question_mark": "?",
        "escape": "esc",
        "left_square_bracket": "[",
        "right_square_bracket": "]",
        "colon": ":",
    }
    return names.get(key, key)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help")]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield Static(f"[b]meshtui {__version__}[/b] — keys where you are now (esc closes)", id="help-title")
        table: DataTable[str] = DataTable(id="help-table", cursor_type="none", zebra_stripes=True)
        table.add_columns("KEY", "WHAT", "WHERE")
        for row in self.rows:
            table.add_row(*row)
        yield table


# inherited bindings that do nothing useful in meshtui's views (no horizontal scroll there)
_HIDDEN_ACTIONS = {"command_palette", "scroll_left", "scroll_right", "page_left", "page_right"}


def rows_from_bindings(active: dict[str, object]) -> list[tuple[str, str, str]]:
    """(key, description, widget) for every active binding; navigation keys included."""
    seen: dict[tuple[str, str], tuple[str, str, str]] = {}
    for key, item in active.items():
        node, binding = item.node, item.binding  # type: ignore[attr-defined]
        if binding.action.removeprefix("app.") in _HIDDEN_ACTIONS:
            continue
        what = binding.tooltip or binding.description or binding.action
        has_tooltip = bool(binding.tooltip)
        where = "everywhere" if isinstance(node, App) else type(node).__name__.removesuffix("Pane")
        row_key = (binding.action, where)
        if row_key in seen:
            k = seen[row_key]
            # our own tooltip says it in meshtui's words: prefer it to an inherited description
            seen[row_key] = (f"{k[0]}, {_key_label(key)}", what if has_tooltip else k[1], k[2])
        else:
            seen[row_key] = (_key_label(key), what, where)
    return sorted(seen.values(), key=lambda r: (r[2] != "everywhere", r[2], r[0]))
