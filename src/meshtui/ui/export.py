"""The export and copy keys, in one place: the focused pane saved as text (exactly what is
on screen) or as JSON records, an SVG screenshot, and the selected row copied to the
clipboard (OSC 52, which travels through SSH and tmux).

Files go to one directory (the current one by default) with names that say what and when:
`meshtui-stats-20260127-190512.txt`. A name already taken gets `-2`, `-3` ... so an export
never overwrites an earlier one.

The JSON holds every row the pane lists under its current filter and sort (not only the
visible ones). A pane that knows its rows better than its table does (stats: kind, delta,
rate; clusters: the endpoints too; pods) says so by implementing `Exported`; any other pane
gives its focused table, else its first table, else its text lines.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rich.console import Console
from textual.app import App
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, TabPane

from meshtui import clipboard
from meshtui.ui.textual_compat import screen_render
from meshtui.ui.widgets.rows_view import RowsView

EXPORT_BINDINGS = [
    Binding(
        "e",
        "export_text",
        "Save text",
        show=False,
        tooltip="Save what the focused pane shows as text",
        id="export_text",
    ),
    Binding(
        "E",
        "export_json",
        "Save JSON",
        show=False,
        tooltip="Save the focused pane's rows as JSON",
        id="export_json",
    ),
    Binding(
        "S",
        "save_screenshot",
        "Screenshot",
        show=False,
        tooltip="Save an SVG screenshot of the screen",
        id="save_screenshot",
    ),
    Binding(
        "c", "copy", "Copy", show=False, tooltip="Copy the selected stat, cluster or row (OSC 52)", id="copy"
    ),
]


@runtime_checkable
class Exported(Protocol):
    """A pane that writes its own JSON fields and the text of a selected row."""

    def export_fields(self) -> dict[str, Any]: ...

    def row_text(self, key: str) -> str: ...


class ExportError(Exception):
    """The file could not be written; the text is one line for a notification."""


class ExportActions(App[Any]):
    """Mixed into MeshtuiApp; `options.export_dir` says where files go (default: here)."""

    options: Any
    last_export: Path | None = None  # the file written last (tests read it back)

    def _save(self, pane: str, suffix: str, content: str, what: str) -> None:
        path = export_path(self.options.export_dir, pane, suffix)
        try:
            saved = write(path, content)
        except ExportError as exc:
            self.notify(str(exc), severity="error")
            return
        self.last_export = saved
        self.notify(f"{what} saved to {saved}", timeout=8)

    def _pane_or_say(self) -> Widget | None:
        pane = focused_pane(self)
        if pane is None:
            self.notify("nothing to export here: focus a pane first", severity="warning")
        return pane

    def action_export_text(self) -> None:
        pane = self._pane_or_say()
        if pane is not None:
            self._save(pane_name(pane), ".txt", pane_text(self, pane), "text")

    def action_export_json(self) -> None:
        pane = self._pane_or_say()
        if pane is not None:
            self._save(pane_name(pane), ".json", to_json(pane_document(self, pane)), "JSON")

    def action_save_screenshot(self) -> None:
        self._save("screen", ".svg", self.export_screenshot(), "screenshot")

    def action_copy(self) -> None:
        text = selected_text(self)
        if not text:
            self.notify("nothing selected to copy", severity="warning")
            return
        # OSC 52 (Textual writes ESC ] 52 ; c ; base64 BEL): the terminal that shows meshtui
        # sets its clipboard, also over SSH and through tmux (set-clipboard on)
        self.copy_to_clipboard(text)
        self.notify(f"copied: {text[:60]}", timeout=4)
        self.run_worker(asyncio.to_thread(clipboard.copy_locally, text), exit_on_error=False)


# -- what a pane shows -----------------------------------------------------------------


def focused_pane(app: App[Any]) -> Widget | None:
    """The pane holding the focus: the child of a tab, of the Proxies layout or of a place."""
    node = app.focused
    while node is not None:
        parent = node.parent
        if isinstance(parent, TabPane) or (isinstance(parent, Widget) and parent.has_class("place")):
            return node
        if isinstance(parent, Horizontal) and parent.id == "main":
            return node
        node = parent if isinstance(parent, Widget) else None
    return None


def pane_name(pane: Widget) -> str:
    return pane.id or type(pane).__name__.lower()


def screen_lines(app: App[Any]) -> list[str]:
    """The screen as plain text lines, rendered the way App.export_screenshot renders it."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        record=True,
        legacy_windows=False,
        safe_box=False,
        color_system=None,
    )
    console.print(screen_render(app))
    return console.export_text(styles=False).splitlines()


def pane_text(app: App[Any], pane: Widget) -> str:
    region = pane.region
    lines = screen_lines(app)[region.y : region.y + region.height]
    return "\n".join(line[region.x : region.x + region.width].rstrip() for line in lines).rstrip() + "\n"


def pane_document(app: App[Any], pane: Widget) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "pane": pane_name(pane),
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    source = getattr(pane, "endpoint_label", "")
    if source:
        doc["source"] = source
    if isinstance(pane, Exported):
        doc.update(pane.export_fields())
        return doc
    # any other pane: its focused table, else its first table, else the text it shows
    inside = [pane, *pane.query("*")]
    views = [v for v in inside if isinstance(v, RowsView) and v.display]
    tables = [t for t in inside if isinstance(t, DataTable) and t.display]
    focused = app.focused
    if isinstance(focused, RowsView | DataTable) and focused in [*views, *tables]:
        views, tables = ([focused], []) if isinstance(focused, RowsView) else ([], [focused])
    if views:
        doc["header"], doc["rows"] = view_rows(views[0])
    elif tables:
        doc["rows"] = table_rows(tables[0])
    else:
        doc["lines"] = pane_text(app, pane).splitlines()
    return doc


def selected_text(app: App[Any]) -> str | None:
    """The focused row as one line of text: a stat `name value`, a cluster, a table row."""
    focused = app.focused
    pane = focused_pane(app)
    if isinstance(focused, RowsView) and focused.current is not None:
        return pane.row_text(focused.current) if isinstance(pane, Exported) else focused.current
    if isinstance(focused, DataTable) and focused.row_count:
        row = focused.get_row_at(focused.cursor_row)
        return "\t".join(_plain(c) for c in row)
    return None


def view_rows(view: RowsView) -> tuple[str, list[dict[str, str]]]:
    """A Line-API table's header and every row (not only the painted ones), as it paints them."""
    width = max(view.size.width, 80)
    rows = []
    for key in view.rows:
        text = "".join(segment.text for segment in view.row_segments(key, width)).rstrip()
        rows.append({"key": key, "text": text})
    return view.header_text(width).rstrip(), rows


def table_rows(table: DataTable[Any]) -> list[dict[str, str]]:
    labels = [_plain(c.label) or str(key.value) for key, c in table.columns.items()]
    return [
        dict(zip(labels, (_plain(c) for c in table.get_row_at(i)), strict=True))
        for i in range(table.row_count)
    ]


def _plain(cell: object) -> str:
    return str(getattr(cell, "plain", cell))


# -- the file --------------------------------------------------------------------------


def export_path(directory: str | Path | None, pane: str, suffix: str, now: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now if now is not None else time.time()))
    base = Path(directory or ".").expanduser()
    stem = f"meshtui-{_safe(pane)}-{stamp}"
    path = base / f"{stem}{suffix}"
    n = 2
    while path.exists():
        path = base / f"{stem}-{n}{suffix}"
        n += 1
    return path


def write(path: Path, content: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as f:  # "x": never overwrite
            f.write(content)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path.resolve()


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name) or "pane"
