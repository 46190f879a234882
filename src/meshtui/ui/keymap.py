"""Key remapping from the config file's [keys] table, through Textual's keymap.

Textual remaps a binding by its `id`. Every meshtui binding spells its id out (as posting
does), named after its action (`help`, `quit`, `toggle_pause`; a parametrised one joins
its arguments: `place.istiod`); `binding_id` says the rule, and a test holds every binding
to it, so the README's names stay true.
"""

from __future__ import annotations

import re

from textual.binding import Binding
from textual.dom import DOMNode

_ACTION = re.compile(r"^(?P<name>[\w.]+)(?:\((?P<args>.*)\))?$")


def binding_id(action: str) -> str:
    found = _ACTION.match(action.strip())
    if not found:
        return action
    args = [a.strip().strip("'\"") for a in (found.group("args") or "").split(",") if a.strip()]
    return ".".join([found.group("name"), *args])


def _meshtui_classes() -> list[type[DOMNode]]:
    seen: list[type[DOMNode]] = []
    todo: list[type[DOMNode]] = [DOMNode]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return [c for c in seen if c.__module__.startswith("meshtui.")]


def known_ids() -> set[str]:
    ids: set[str] = set()
    for cls in _meshtui_classes():
        for item in cls.__dict__.get("BINDINGS", ()):
            if isinstance(item, Binding) and item.id:
                ids.add(item.id)
    return ids


def preference_problems(keys: dict[str, str], theme: str | None, themes: set[str]) -> list[str]:
    """One line per config entry the app cannot honour (it carries on with the rest)."""
    problems = []
    unknown = sorted(set(keys) - known_ids())
    if unknown:
        problems.append(
            f"config [keys]: no binding named {', '.join(unknown)} (see the README for the names)"
        )
    if theme and theme not in themes:
        problems.append(f"theme {theme!r} unknown; one of: {', '.join(sorted(themes))}")
    return problems
