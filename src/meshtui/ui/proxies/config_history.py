"""The config versions a proxy held while meshtui watched it (envoy/config_history.py), and
what changed between any two: the list of versions, newest first, each with what moved;
below it, the changes from the base (the version before, or the one marked with `b`) to
the highlighted one, per resource (`route 80 / vhost ... / route #0: retries 0 -> 4`)."""

from __future__ import annotations

import time

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from meshtui.envoy.config_history import ConfigVersion, between


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


class ConfigHistoryScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ConfigHistoryScreen { align: center middle; }
    ConfigHistoryScreen > Vertical { width: 95%; height: 90%; border: round $accent; background: $surface; }
    ConfigHistoryScreen OptionList { height: 40%; }
    ConfigHistoryScreen #history-head { height: auto; color: $text-muted; padding: 0 1; }
    ConfigHistoryScreen VerticalScroll { height: 1fr; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,q,h", "dismiss", "Close", id="dismiss"),
        Binding("b", "mark_base", "Base", tooltip="Compare the other versions with this one", id="mark_base"),
    ]

    def __init__(self, label: str, versions: tuple[ConfigVersion, ...]) -> None:
        super().__init__()
        self.label = label
        self.versions = versions
        self.base: ConfigVersion | None = None  # None: each version against the one before

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"{self.label}: {len(self.versions)} config versions seen (newest first). "
                "b: compare with this one; esc: close",
                id="history-head",
            )
            yield OptionList(*(Option(self._line(v), id=str(v.number)) for v in reversed(self.versions)))
            with VerticalScroll():
                yield Static("", id="history-diff", markup=False)

    def _line(self, v: ConfigVersion) -> str:
        i = self.versions.index(v)
        before = self.versions[i - 1] if i else None
        if before is None:
            what = "when meshtui began to watch"
        else:
            moved = " ".join(v.moved(before)) or "nothing moved"
            n = len(v.changes)
            what = f"{moved}: {n} resource{'' if n == 1 else 's'} changed"
        versions = ", ".join(sorted({value for _, value in v.versions}))[:60]
        return f"v{v.number}  {_clock(v.at)}  {what}  ({versions})"

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        self._show()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self._show()

    def _current(self) -> ConfigVersion | None:
        option_list = self.query_one(OptionList)
        index = option_list.highlighted
        if index is None:
            return None
        return list(reversed(self.versions))[index]

    def action_mark_base(self) -> None:
        self.base = self._current()
        self._show()

    def _show(self) -> None:
        cur = self._current()
        out = self.query_one("#history-diff", Static)
        if cur is None:
            out.update("")
            return
        i = self.versions.index(cur)
        base = (
            self.base
            if self.base is not None and self.base is not cur
            else (self.versions[i - 1] if i else None)
        )
        if base is None:
            out.update(f"v{cur.number}: the first version meshtui saw; later ones show what changed from it")
            return
        changes = (
            cur.changes if base is self.versions[i - 1] and self.base is None else tuple(between(base, cur))
        )
        lines = [f"v{base.number} -> v{cur.number}:"] + [c.line() for c in changes]
        out.update("\n".join(lines if changes else [*lines, "no change in clusters, listeners or routes"]))
