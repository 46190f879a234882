"""The config file, `$XDG_CONFIG_HOME/meshtui/config.toml` (default ~/.config/meshtui/config.toml).

    interval = 2            # stats refresh, seconds (at least 0.2)
    theme = "nord"          # one of Textual's themes
    namespace = "istioinaction"
    read_only = true
    export_dir = "~/meshtui-exports"  # where e / E / S save (default: the current directory)
    [keys]                  # binding id = key(s), comma-separated (see README)
    help = "f1"
    quit = "ctrl+q"

Command-line flags win over the file. A bad file is never fatal: `load` returns the
defaults and one line naming the file and the line, which the app shows.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _toml() -> Any:
    """The TOML parser, imported only when there is a config file (~35 ms: bench/coldstart.py)."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    import tomli  # pragma: no cover - Python 3.10

    return tomli


MIN_INTERVAL = 0.2


@dataclass(frozen=True)
class Settings:
    interval: float | None = None
    theme: str | None = None
    namespace: str | None = None
    read_only: bool | None = None
    keys: dict[str, str] = field(default_factory=dict)
    export_dir: str | None = None


class SettingsError(Exception):
    """One line: the file, the line, what is wrong."""


def config_path() -> Path:
    # XDG Base Directory spec: an empty or relative $XDG_CONFIG_HOME is ignored
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "meshtui" / "config.toml"


def load(path: Path | None = None) -> tuple[Settings, str | None]:
    """The settings (defaults when there is no file) and a one-line problem, if any."""
    path = path or config_path()
    try:
        return parse(path.read_text(encoding="utf-8"), str(path)), None
    except FileNotFoundError:
        return Settings(), None
    except (OSError, UnicodeDecodeError) as exc:
        return (
            Settings(),
            f"config {path}: unreadable ({getattr(exc, 'strerror', None) or exc}); using defaults",
        )
    except SettingsError as exc:
        return Settings(), f"{exc}; using defaults"


def parse(text: str, name: str) -> Settings:
    tomllib = _toml()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # "Expected '=' after a key in a key/value pair (at line 3, column 7)"
        message = str(exc)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        what = message[: found.start()].strip() if found else message
        line = f" line {found.group(1)}" if found else ""
        raise SettingsError(f"config {name}{line}: {what}") from exc

    def bad(key: str, why: str) -> SettingsError:
        return SettingsError(f"config {name} line {_line_of(text, key)}: {key} {why}")

    known = {"interval", "theme", "namespace", "read_only", "keys", "export_dir"}
    for key in doc:
        if key not in known:
            names = ", ".join(sorted(known))
            raise SettingsError(
                f"config {name} line {_line_of(text, key)}: unknown setting {key!r} (known: {names})"
            )
    interval = doc.get("interval")
    if interval is not None:
        if isinstance(interval, bool) or not isinstance(interval, int | float):
            raise bad("interval", "must be a number of seconds")
        if interval < MIN_INTERVAL:
            raise bad("interval", f"must be at least {MIN_INTERVAL} s")
    for key in ("theme", "namespace", "export_dir"):
        if key in doc and (not isinstance(doc[key], str) or not doc[key]):
            raise bad(key, "must be a non-empty string")
    if "read_only" in doc and not isinstance(doc["read_only"], bool):
        raise bad("read_only", "must be true or false")
    keys: Any = doc.get("keys", {})
    if not isinstance(keys, dict):
        raise bad("keys", 'must be a table: [keys] then id = "key" lines')
    for binding_id, key in keys.items():
        if not isinstance(key, str) or not key.strip():
            raise bad(binding_id, 'must be a key name like "f1" or "ctrl+q"')
    return Settings(
        interval=float(interval) if interval is not None else None,
        theme=doc.get("theme"),
        namespace=doc.get("namespace"),
        read_only=doc.get("read_only"),
        keys={str(k): str(v) for k, v in keys.items()},
        export_dir=doc.get("export_dir"),
    )


def _line_of(text: str, key: str) -> int:
    """The line a key is set on (tomllib keeps no positions for values)."""
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=|^\s*\[{re.escape(key)}\]")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return 1
