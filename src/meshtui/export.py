"""Write what a pane shows to a file: text, JSON, or an SVG screenshot (no Textual here).

Files go to one directory (the current one by default) with names that say what and when:
`meshtui-stats-20260127-190512.txt`. A name already taken gets `-2`, `-3` ... so an export
never overwrites an earlier one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


class ExportError(Exception):
    """The file could not be written; the text is one line for a notification."""


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
