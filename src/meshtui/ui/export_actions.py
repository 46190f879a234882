"""The app's export and copy keys: the focused pane to text / JSON, an SVG screenshot, and
the selected row to the clipboard (OSC 52, which travels through SSH and tmux)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding

from meshtui import clipboard, export
from meshtui.ui import exporting

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


class ExportActions(App[Any]):
    """Mixed into MeshtuiApp; `options.export_dir` says where files go (default: here)."""

    options: Any
    last_export: Path | None = None  # the file written last (tests read it back)

    def _save(self, pane: str, suffix: str, content: str, what: str) -> None:
        path = export.export_path(self.options.export_dir, pane, suffix)
        try:
            saved = export.write(path, content)
        except export.ExportError as exc:
            self.notify(str(exc), severity="error")
            return
        self.last_export = saved
        self.notify(f"{what} saved to {saved}", timeout=8)

    def _pane_or_say(self) -> Any:
        pane = exporting.focused_pane(self)
        if pane is None:
            self.notify("nothing to export here: focus a pane first", severity="warning")
        return pane

    def action_export_text(self) -> None:
        pane = self._pane_or_say()
        if pane is not None:
            self._save(exporting.pane_name(pane), ".txt", exporting.pane_text(self, pane), "text")

    def action_export_json(self) -> None:
        pane = self._pane_or_say()
        if pane is not None:
            document = exporting.pane_document(self, pane)
            self._save(exporting.pane_name(pane), ".json", export.to_json(document), "JSON")

    def action_save_screenshot(self) -> None:
        self._save("screen", ".svg", self.export_screenshot(), "screenshot")

    def action_copy(self) -> None:
        text = exporting.selected_text(self)
        if not text:
            self.notify("nothing selected to copy", severity="warning")
            return
        # OSC 52 (Textual writes ESC ] 52 ; c ; base64 BEL): the terminal that shows meshtui
        # sets its clipboard, also over SSH and through tmux (set-clipboard on)
        self.copy_to_clipboard(text)
        self.notify(f"copied: {text[:60]}", timeout=4)
        self.run_worker(asyncio.to_thread(clipboard.copy_locally, text), exit_on_error=False)
