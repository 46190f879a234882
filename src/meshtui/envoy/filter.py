"""The stats filter: grep-like prefix by default, `re:` for a regular expression.

The same filter is sent to Envoy as `/stats?filter=REGEX` so a large stat set is
cut at the source; Envoy takes RE2 syntax, so a prefix is escaped for RE2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

REGEX_MARK = "re:"
_RE2_SPECIAL = set("\\.^$|?*+()[]{}")


class FilterError(ValueError):
    pass


def re2_escape(text: str) -> str:
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in text)


@dataclass(frozen=True)
class StatFilter:
    text: str = ""

    @property
    def is_regex(self) -> bool:
        return self.text.startswith(REGEX_MARK)

    @property
    def pattern(self) -> str:
        return self.text[len(REGEX_MARK) :] if self.is_regex else self.text

    @property
    def empty(self) -> bool:
        return not self.pattern

    @cached_property
    def compiled(self) -> re.Pattern[str] | None:
        if not self.is_regex or self.empty:
            return None
        try:
            return re.compile(self.pattern)
        except re.error as exc:
            raise FilterError(f"bad regular expression: {exc}") from exc

    def envoy_param(self) -> str | None:
        """What goes in `/stats?filter=`: None for no filter."""
        if self.empty:
            return None
        return self.pattern if self.is_regex else "^" + re2_escape(self.pattern)

    def select(self, names: tuple[str, ...] | list[str]) -> list[str]:
        if self.empty:
            return list(names)
        if self.is_regex:
            search = self.compiled.search  # type: ignore[union-attr]
            return [n for n in names if search(n)]
        prefix = self.pattern
        return [n for n in names if n.startswith(prefix)]

    def narrows(self, other: StatFilter) -> bool:
        """True if every stat this filter keeps is also kept by `other` (so local data suffices)."""
        if other.empty:
            return True
        return not self.is_regex and not other.is_regex and self.pattern.startswith(other.pattern)
