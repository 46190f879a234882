"""`--record DIR`: the timeline appended as JSON lines, one file a day (UTC), so the history
outlives a reconnect or a restart of meshtui and can be read back (`read_back`)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from meshtui.events.model import MeshEvent


class Record:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).expanduser()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._day = ""
        self._file: IO[str] | None = None

    def append(self, event: MeshEvent) -> None:
        day = time.strftime("%Y-%m-%d", time.gmtime(event.time))
        if day != self._day or self._file is None:
            self.close()
            self._day = day
            self._file = open(self.folder / f"events-{day}.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        self._file.write(event.json_line() + "\n")
        self._file.flush()  # a killed meshtui keeps every entry it showed

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_back(folder: str | Path) -> Iterator[dict[str, object]]:
    """Every recorded entry, oldest file first; a torn last line (a kill mid-write) is skipped."""
    for path in sorted(Path(folder).expanduser().glob("events-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                yield json.loads(line)
            except ValueError:
                continue
