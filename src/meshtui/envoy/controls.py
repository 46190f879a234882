"""Calls that change a proxy: log levels (`POST /logging`) and `POST /reset_counters`.

Log levels changed from meshtui are remembered with their old value so they can be
put back when meshtui exits or after a time the user picks (as kubectl-istiolog
does). The UI asks before calling any of these; under --read-only the admin client
refuses them (`EnvoyAdmin.change`, envoy/admin.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from meshtui.envoy.admin import AdminError, EnvoyAdmin

LEVELS = ("trace", "debug", "info", "warning", "error", "critical", "off")


def parse_loggers(body: str) -> dict[str, str]:
    """`active loggers:\\n  admin: info\\n ...` -> {"admin": "info", ...}."""
    out = {}
    for line in body.splitlines():
        name, sep, level = line.strip().partition(": ")
        if sep and level in LEVELS:
            out[name] = level
    return out


async def log_levels(admin: EnvoyAdmin) -> dict[str, str]:
    return parse_loggers((await admin.post("/logging")).text)


async def set_log_levels(admin: EnvoyAdmin, levels: dict[str, str]) -> dict[str, str]:
    """Set some loggers (`paths=router:debug,...`); returns every logger's level after."""
    bad = [lv for lv in levels.values() if lv not in LEVELS]
    if bad:
        raise AdminError(f"not a log level: {bad[0]} (one of {', '.join(LEVELS)})")
    paths = ",".join(f"{name}:{level}" for name, level in levels.items())
    return parse_loggers((await admin.change("/logging", {"paths": paths})).text)


async def reset_counters(admin: EnvoyAdmin) -> None:
    await admin.change("/reset_counters")


@dataclass
class LogLevelChanges:
    """What meshtui changed on one proxy, to put back. The first old value of a logger wins."""

    original: dict[str, str] = field(default_factory=dict)
    revert_at: float | None = None  # time.monotonic(); None: when meshtui exits

    def record(self, before: dict[str, str], changed: dict[str, str]) -> None:
        for name in changed:
            if name in before:
                self.original.setdefault(name, before[name])

    def due(self, now: float | None = None) -> bool:
        return self.revert_at is not None and (now or time.monotonic()) >= self.revert_at

    async def revert(self, admin: EnvoyAdmin) -> dict[str, str]:
        if not self.original:
            return {}
        after = await set_log_levels(admin, self.original)
        self.original = {}
        self.revert_at = None
        return after
