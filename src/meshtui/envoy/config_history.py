"""Each config version a watched proxy held, and what changed from one to the next.

Every `INTERVAL_S` the proxy's xDS versions are read from its own stats (a few text
readouts: `cluster_manager.cds.version_text`, `listener_manager.lds.version_text`,
`http.*.rds.*.version_text`, the version_info of what it accepted); only when one moved is
its `/config_dump` read (without endpoints: they churn with every pod) and kept, with its
changes from the version before (envoy/config_changes.py). Kept: the first version seen
and the last MAX_VERSIONS, within MAX_BYTES of dumps.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from meshtui.envoy.admin import EnvoyAdmin
from meshtui.envoy.config_changes import ResourceChange, config_changes
from meshtui.envoy.live import AdminEndpoint, AdminFeed
from meshtui.live import Freshness

INTERVAL_S = 2.0
MAX_VERSIONS = 30
MAX_BYTES = 64 * 1024 * 1024
VERSIONS = r"^(cluster_manager\.cds|listener_manager\.lds|http\..*\.rds\..*)\.version_text$"


@dataclass(frozen=True)
class ConfigVersion:
    at: float  # when meshtui saw it (unix seconds)
    versions: tuple[tuple[str, str], ...]  # (xDS stat, version_info) as the proxy reports them
    doc: dict[str, Any] = field(repr=False, compare=False)
    size: int = 0  # bytes of its /config_dump
    changes: tuple[ResourceChange, ...] = ()  # from the version before (none for the first)
    number: int = 1  # 1 for the first version meshtui saw

    def moved(self, before: ConfigVersion | None) -> list[str]:
        """Which xDS versions moved since `before`: `RDS 80`, `CDS`."""
        old = dict(before.versions) if before else {}
        return [_short(name) for name, v in self.versions if old.get(name) != v]


def _short(stat: str) -> str:
    if stat.startswith("cluster_manager.cds"):
        return "CDS"
    if stat.startswith("listener_manager.lds"):
        return "LDS"
    return "RDS " + stat.rsplit(".rds.", 1)[-1].removesuffix(".version_text")


def parse_versions(body: str) -> tuple[tuple[str, str], ...]:
    """`name: "value"` text readouts, in name order."""
    out = []
    for line in body.splitlines():
        name, sep, value = line.partition(": ")
        if sep:
            out.append((name, value.strip().strip('"')))
    return tuple(sorted(out))


@dataclass(frozen=True)
class HistoryUpdate:
    versions: tuple[ConfigVersion, ...] = ()
    label: str = ""
    error: str = ""
    freshness: Freshness = field(default_factory=Freshness)


class HistoryFeed(AdminFeed[HistoryUpdate]):
    def __init__(self, endpoint: AdminEndpoint, interval: float = INTERVAL_S, clock: Any = time.time) -> None:
        super().__init__(endpoint, interval, timeout=15)  # a gateway's dump takes a while
        self.clock = clock
        self._kept: list[ConfigVersion] = []
        self._number = 0

    async def read(self, admin: EnvoyAdmin, started: float) -> HistoryUpdate:
        # text readouts only: a few thousand at most, where a filter over every stat of a
        # 214,000-stat Envoy each 2 s cost it ~5% of a core
        versions = parse_versions(await admin.stats_get({"type": "TextReadouts", "filter": VERSIONS}))
        last = self._kept[-1] if self._kept else None
        if last is None or versions != last.versions:
            body = await admin.config_dump()
            doc, changes = await asyncio.to_thread(_read, body, last.doc if last else None)
            self._number += 1
            self._keep(ConfigVersion(self.clock(), versions, doc, len(body), tuple(changes), self._number))
        return HistoryUpdate(tuple(self._kept), self.endpoint.label)

    def _keep(self, version: ConfigVersion) -> None:
        self._kept.append(version)
        # the first version stays (where watching began); then the newest, within bounds
        while len(self._kept) > 2 and (
            len(self._kept) > MAX_VERSIONS or sum(v.size for v in self._kept) > MAX_BYTES
        ):
            del self._kept[1]

    def failed(self, reason: str) -> HistoryUpdate:
        return HistoryUpdate(tuple(self._kept), self.endpoint.label, reason)


def _read(body: str, before: dict[str, Any] | None) -> tuple[dict[str, Any], list[ResourceChange]]:
    doc = json.loads(body)
    if not isinstance(doc, dict):
        raise ValueError("/config_dump is not a JSON object")
    return doc, (config_changes(before, doc) if before is not None else [])


def between(old: ConfigVersion, new: ConfigVersion) -> list[ResourceChange]:
    """What changed from any kept version to another."""
    return config_changes(old.doc, new.doc)
