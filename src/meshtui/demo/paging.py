"""Lists in chunks (`limit` and `continue`), as the API server serves them.

apiserver's etcd3 store (storage/etcd3/store.go GetList) answers `limit=N` with the first
N items, `metadata.continue` (an opaque token for the rest, read at the first chunk's
resourceVersion) and `metadata.remainingItemCount`; every chunk carries that same
resourceVersion, so a client that pages through a list sees one consistent snapshot and
can watch from it. A token older than etcd's compaction is answered 410 Expired with the
message below (apimachinery storage errors.go). Here a snapshot is kept per list for the
last `keep` lists, standing in for the compaction window.
"""

from __future__ import annotations

import collections
import secrets
from typing import Any

EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter."
)


class Expired(Exception):
    pass


class Pager:
    def __init__(self, keep: int = 32) -> None:
        self.keep = keep
        self._lists: collections.OrderedDict[str, tuple[int, list[Any]]] = collections.OrderedDict()

    def page(
        self, items: list[Any], rv: int, limit: str | None, token: str | None
    ) -> tuple[list[Any], dict[str, Any]]:
        """(the chunk, its ListMeta); raises Expired for a token that is no longer kept."""
        if token:
            snapshot_id, _, start = token.partition(":")
            if snapshot_id not in self._lists:
                raise Expired(EXPIRED)
            rv, items = self._lists[snapshot_id]
            offset = int(start or 0)
        else:
            snapshot_id, offset = "", 0
        size = int(limit) if limit and int(limit) > 0 else 0
        if not size or offset + size >= len(items):
            return items[offset:], {"resourceVersion": str(rv)}
        if not snapshot_id:
            snapshot_id = secrets.token_hex(6)
            self._lists[snapshot_id] = (rv, list(items))
            while len(self._lists) > self.keep:
                self._lists.popitem(last=False)
        rest = len(items) - offset - size
        meta = {
            "resourceVersion": str(rv),
            "continue": f"{snapshot_id}:{offset + size}",
            "remainingItemCount": rest,
        }
        return items[offset : offset + size], meta
