"""The stats filter: grep-like prefix by default, `re:` for a regular expression.

The live view filters locally, over names kept sorted, so a prefix is a bisect. The
headless `stats` command sends it to Envoy as `/stats?filter=REGEX`; Envoy takes RE2
syntax, so a prefix is escaped for RE2.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from typing import overload

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

    def select_sorted(self, names: Sequence[str]) -> Sequence[str]:
        """As `select`, for names in sorted order: a prefix is one contiguous range, found
        by bisection and not copied (microseconds at 200,000 names, where a scan takes
        ~15 ms and a copy of the range ~4)."""
        if self.is_regex:
            return self.select(names)
        prefix = self.pattern
        lo = bisect_left(names, prefix) if prefix else 0
        hi = bisect_left(names, prefix + "\U0010ffff", lo) if prefix else len(names)
        return SortedRange(names, lo, hi)


class SortedRange(Sequence[str]):
    """names[lo:hi] of a sorted sequence, without the copy; `index` and `in` bisect."""

    __slots__ = ("_hi", "_lo", "_names")

    def __init__(self, names: Sequence[str], lo: int, hi: int) -> None:
        self._names, self._lo, self._hi = names, lo, max(lo, hi)

    def __len__(self) -> int:
        return self._hi - self._lo

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...

    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return self._names[self._lo + i]

    def __iter__(self) -> Iterator[str]:
        return islice(self._names, self._lo, self._hi)

    def index(self, name: str, start: int = 0, stop: int | None = None) -> int:
        at = bisect_left(self._names, name, self._lo, self._hi)
        if at < self._hi and self._names[at] == name:
            found = at - self._lo
            if start <= found and (stop is None or found < stop):
                return found
        raise ValueError(f"{name!r} is not in the rows")

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        at = bisect_left(self._names, name, self._lo, self._hi)
        return at < self._hi and self._names[at] == name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SortedRange({len(self)} names)"
