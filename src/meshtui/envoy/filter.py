"""The stats filter: grep-like prefix by default, `re:` for a regular expression.

The live view filters locally, over names kept sorted, so a prefix is a bisect. The
headless `stats` command sends it to Envoy as `/stats?filter=REGEX`; Envoy takes RE2
syntax, so a prefix is escaped for RE2.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
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

    def select(self, names: Sequence[str]) -> list[str]:
        if self.empty:
            return list(names)
        if self.is_regex:
            search = self.compiled.search  # type: ignore[union-attr]
            return [n for n in names if search(n)]
        prefix = self.pattern
        return [n for n in names if n.startswith(prefix)]

    def select_sorted(self, names: Sequence[str]) -> list[str]:
        """As `select`, for names in sorted order: a prefix is one contiguous range, found
        by bisection (microseconds at 200,000 names, where a scan takes ~15 ms)."""
        if self.empty or self.is_regex:
            return self.select(names)
        prefix = self.pattern
        lo = bisect_left(names, prefix)
        hi = bisect_left(names, prefix + "\U0010ffff", lo)
        return list(names[lo:hi])
