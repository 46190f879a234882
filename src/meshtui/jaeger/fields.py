"""Typed reads from decoded JSON: every wrong shape becomes one JaegerFormatError line."""

from __future__ import annotations

import json
from typing import Any

from meshtui.jaeger.model import JaegerFormatError


def load_json(body: str | bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise JaegerFormatError(f"not JSON: not {what}") from exc


# `where` names the place for the error line; `key` (a field or an index) is added to it
# only when there is an error, so the happy path builds no strings (5,000-span traces).


def _at(where: str, key: str | int | None) -> str:
    if key is None:
        return where
    return f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}"


def obj(value: Any, where: str, key: str | int | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise JaegerFormatError(f"{_at(where, key)}: expected an object")
    return value


def arr(value: Any, where: str, key: str | int | None = None, *, null_ok: bool = True) -> list[Any]:
    if value is None and null_ok:
        return []  # Go marshals an empty slice as null
    if not isinstance(value, list):
        raise JaegerFormatError(f"{_at(where, key)}: expected a list")
    return value


def text(value: Any, where: str, key: str | int | None = None, *, default: str | None = None) -> str:
    if type(value) is str:
        return value
    if value is None and default is not None:
        return default
    raise JaegerFormatError(f"{_at(where, key)}: expected a string")


def integer(value: Any, where: str, key: str | int | None = None, *, default: int | None = None) -> int:
    """A non-negative integer; protobuf's JSON writes 64-bit ones as strings."""
    if type(value) is int and 0 <= value < 1 << 64:
        return value
    if value is None and default is not None:
        return default
    where = _at(where, key)
    if isinstance(value, bool):
        raise JaegerFormatError(f"{where}: expected a number")
    whole_float = isinstance(value, float) and value.is_integer()
    if whole_float or (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 24):
        value = int(value)
    if not isinstance(value, int) or value < 0 or value >= 1 << 64:
        raise JaegerFormatError(f"{where}: expected a non-negative integer")
    return value
