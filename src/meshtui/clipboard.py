"""The local clipboard, beside OSC 52: for terminals that ignore OSC 52 when meshtui runs on
the machine the user sits at. Over SSH (SSH_CONNECTION set) the local tools would fill the
remote host's clipboard, which nobody sees, so only OSC 52 is used there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping

# (tool + arguments, what must be set for it to reach the user's screen)
_TOOLS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("wl-copy",), "WAYLAND_DISPLAY"),
    (("xclip", "-selection", "clipboard"), "DISPLAY"),
    (("xsel", "--clipboard", "--input"), "DISPLAY"),
)


def local_tool(env: Mapping[str, str] | None = None) -> tuple[str, ...] | None:
    env = os.environ if env is None else env
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return None
    if sys.platform == "darwin" and shutil.which("pbcopy", path=env.get("PATH")):
        return ("pbcopy",)
    for command, needs in _TOOLS:
        if env.get(needs) and shutil.which(command[0], path=env.get("PATH")):
            return command
    return None


def copy_locally(text: str, env: Mapping[str, str] | None = None) -> str | None:
    """Hand the text to the local clipboard tool (blocking: call in a thread); its name, or None."""
    command = local_tool(env)
    if command is None:
        return None
    path = shutil.which(command[0], path=(env or os.environ).get("PATH"))
    try:
        subprocess.run(
            [path or command[0], *command[1:]],
            input=text.encode(),
            timeout=3,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return command[0]
