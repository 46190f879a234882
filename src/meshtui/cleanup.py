"""Folders of secrets and scratch that go away even after SIGKILL: the demo's (kubeconfig,
keys, bootstraps, logs), and the one where the kubernetes client writes a kubeconfig's
inline certificates and keys (`*-data`) as files for its TLS.

A process killed by SIGKILL runs no cleanup of its own, so a tiny watchdog does it: it
reads a pipe whose write end only our processes hold, and when the kernel closes
the last of those (every holder gone, however it died) the read returns EOF and the
watchdog removes the folder. It runs in its own session, ignoring the terminal's SIGINT
and SIGHUP, so a Ctrl+C or a closed terminal that ends us does not end it first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

# stdlib only, started with -I -S: a few milliseconds, and nothing of the demo's imported
WATCHDOG = """
import os, shutil, signal, sys
for s in (signal.SIGINT, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
os.chdir("/")
while os.read(0, 4096):
    pass
shutil.rmtree(sys.argv[1], ignore_errors=True)
"""


class FolderGuard:
    """Removes `folder` when every process holding `fd` (the pipe's write end) is gone."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        read_end, self.fd = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", WATCHDOG, str(folder)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(read_end)

    def close(self) -> None:
        """A clean stop: remove the folder now, and let the watchdog go."""
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)  # it ends at once if no child holds the pipe


def guarded_folder(prefix: str) -> tuple[Path, FolderGuard]:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=prefix))
    return folder, FolderGuard(folder)
