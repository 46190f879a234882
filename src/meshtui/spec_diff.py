"""What changed between two versions of an object, field by field, in one line.

`kubectl apply` of a VirtualService changes a few leaves of its spec; a text diff of the
YAML says that in twenty lines. Here the two specs are walked together: dicts by key,
lists of named things (`name:` in each item, as Istio's http routes and ports have) by
name, other lists by position, and each changed leaf is `path: old -> new`
(`http[0].retries.attempts: - -> 4`; `-` where there was none).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

MISSING = object()
VALUE_WIDTH = 40  # a long value (a whole list that appeared) is cut to this


def changes(old: Any, new: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, old, new) for every leaf that differs; MISSING on the side without it."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            yield from changes(old.get(key, MISSING), new.get(key, MISSING), _join(path, str(key)))
        return
    if isinstance(old, list) and isinstance(new, list):
        named_old, named_new = _by_name(old), _by_name(new)
        if named_old is not None and named_new is not None:
            for name in [*named_old, *(n for n in named_new if n not in named_old)]:
                where = f"{path}[{name}]"
                yield from changes(named_old.get(name, MISSING), named_new.get(name, MISSING), where)
            return
        for i in range(max(len(old), len(new))):
            yield from changes(
                old[i] if i < len(old) else MISSING, new[i] if i < len(new) else MISSING, f"{path}[{i}]"
            )
        return
    if old is MISSING and isinstance(new, (dict, list)) and new:
        yield from changes(type(new)(), new, path)  # a new block: its leaves, each from nothing
        return
    if new is MISSING and isinstance(old, (dict, list)) and old:
        yield from changes(old, type(old)(), path)
        return
    if not _same(old, new):
        yield path, old, new


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _by_name(items: list[Any]) -> dict[str, Any] | None:
    """The items by their `name`, when every item has a distinct one."""
    if not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None
    named = {i["name"]: i for i in items}
    return named if len(named) == len(items) else None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)  # 10.0 is 10: JSON from two writers spells numbers differently
    return bool(a == b)


def shown(value: Any) -> str:
    if value is MISSING:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def summary(found: list[tuple[str, Any, Any]], most: int = 3) -> str:
    """`a.b: 1 -> 2, c: - -> x (+4 more)`; "no change" for none."""
    if not found:
        return "no change"
    parts = [f"{p}: {shown(o)} -> {shown(n)}" for p, o, n in found[:most]]
    more = f" (+{len(found) - most} more)" if len(found) > most else ""
    return ", ".join(parts) + more


def as_json(found: list[tuple[str, Any, Any]]) -> list[dict[str, Any]]:
    return [
        {"path": p, "old": None if o is MISSING else o, "new": None if n is MISSING else n}
        for p, o, n in found
    ]
