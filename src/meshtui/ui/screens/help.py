"""The help screen (`?`), built from the key bindings live where it was opened."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
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
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help", id="dismiss")]

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


# Textual's own bindings, in meshtui's words; None: inherited but of no use in meshtui
_TEXTUAL: dict[str, str | None] = {
    "focus_next": "Focus the next part of this view",
    "focus_previous": "Focus the previous part of this view",
    "copy_text": "Copy the text selected with the mouse",
    "help_quit": None,  # ctrl+c where nothing is selected: Textual's "press ctrl+q" hint
    "command_palette": None,  # `:` is meshtui's command mode
    "cursor_up": "Up",
    "cursor_down": "Down",
    "page_up": "Page up",
    "page_down": "Page down",
    "scroll_top": "First row",
    "scroll_bottom": "Last row",
    "cursor_left": "Scroll a wide table left",  # a row cursor scrolls sideways
    "cursor_right": "Scroll a wide table right",
    "scroll_home": "Scroll to the first column",
    "scroll_end": "Scroll to the last column",
    "previous_tab": "Previous tab",
    "next_tab": "Next tab",
    "select_cursor": None,  # unless the pane says what enter does (HELP_ENTER)
    "scroll_left": None,
    "scroll_right": None,
    "page_left": None,
    "page_right": None,
}
# where the same Textual widget means something else
_IN_PANE = {("Config", "previous_tab"): "Previous section", ("Config", "next_tab"): "Next section"}


def _pane_of(node: object) -> tuple[str, object | None]:
    """Where a binding lives, as the user sees it: everywhere, or the pane around it."""
    if isinstance(node, (App, Screen)):
        return "everywhere", None
    for n in getattr(node, "ancestors_with_self", []):
        name = type(n).__name__
        if name.endswith("Pane") or name.endswith("Bar"):
            return name.removesuffix("Pane"), n
    return type(node).__name__, None


def rows_from_bindings(active: dict[str, object]) -> list[tuple[str, str, str]]:
    """(key, description, where) for every active binding that works and matters here:
    meshtui's own with their tooltips, Textual's inherited ones in meshtui's words."""
    seen: dict[tuple[str, str], tuple[str, str, str]] = {}
    for key, item in active.items():
        node, binding = item.node, item.binding  # type: ignore[attr-defined]
        if key.startswith("super+"):  # a GUI modifier: no terminal sends it
            continue
        action = binding.action.removeprefix("app.").removeprefix("screen.")
        where, pane = _pane_of(node)
        what = binding.tooltip or binding.description or action
        has_tooltip = bool(binding.tooltip)
        if not has_tooltip and action in _TEXTUAL:  # inherited from Textual (ours carry tooltips)
            if action == "select_cursor":
                what = getattr(pane, "HELP_ENTER", None)
            else:
                what = _IN_PANE.get((where, action), _TEXTUAL[action])
            if what is None:
                continue
        row_key = (binding.action, where)
        if row_key in seen:
            k = seen[row_key]
            # our own tooltip says it in meshtui's words: prefer it to an inherited description
            seen[row_key] = (f"{k[0]}, {_key_label(key)}", what if has_tooltip else k[1], k[2])
        else:
            seen[row_key] = (_key_label(key), what, where)
    # where you are first: on a short terminal the place keys (1-5 ...) would push them off
    return sorted(seen.values(), key=lambda r: (r[2] == "everywhere", r[2], r[0]))
