"""Parse the bodies of Envoy's `/stats` admin endpoint, plain text or `?format=json`.

Text lines look like `name: value`, where value is an integer (counter or gauge),
a quoted string (text readout), or a histogram summary such as
`P0(nan,1) P25(nan,1.05) ... P100(nan,8.1)` -- each pair is (interval, cumulative) --
or `No recorded values` before the first stats flush.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

StatKind = Literal["counter", "gauge", "histogram", "text", "unknown"]

NO_VALUES = "No recorded values"
_QUANTILE = re.compile(r"P([0-9.]+)\(([^,()]*),([^,()]*)\)")


class StatsFormatError(ValueError):
    """A `/stats` body that is neither Envoy's text nor its JSON format."""


@dataclass(frozen=True, slots=True)
class Quantile:
    interval: float | None
    cumulative: float | None


@dataclass(frozen=True, slots=True)
class Stat:
    name: str
    kind: StatKind
    value: int | float | str | None
    quantiles: Mapping[str, Quantile] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "kind": self.kind, "value": self.value}
        if self.kind == "histogram":
            out["quantiles"] = {
                label: {"interval": q.interval, "cumulative": q.cumulative}
                for label, q in self.quantiles.items()
            }
        return out


def _float_or_none(text: str) -> float | None:
    if text == "nan":
        return None
    return float(text)


def parse_quantiles(raw: str) -> dict[str, Quantile]:
    """`P50(nan,1.1) P99(2,3)` -> {"P50": Quantile(None, 1.1), "P99": Quantile(2.0, 3.0)}."""
    if raw == NO_VALUES:
        return {}
    found = _QUANTILE.findall(raw)
    if not found:
        raise StatsFormatError(f"not a histogram summary: {raw[:60]!r}")
    try:
        return {f"P{p}": Quantile(_float_or_none(i), _float_or_none(c)) for p, i, c in found}
    except ValueError as exc:
        raise StatsFormatError(f"bad quantile value in {raw[:60]!r}") from exc


def parse_number(raw: str) -> int | float:
    try:
        return int(raw)
    except ValueError:
        return float(raw)


def raw_kind(raw: str) -> Literal["number", "histogram", "text"]:
    """What a raw text value is, by its shape alone."""
    if raw[:1] == '"':
        return "text"
    if raw and (raw[0].isdigit() or raw[0] == "-"):
        return "number"
    return "histogram"


def stat_from_raw(name: str, raw: str, kind: StatKind = "unknown") -> Stat:
    """Turn one text line's value into a typed Stat; `kind` says counter/gauge when known."""
    shape = raw_kind(raw)
    if shape == "text":
        return Stat(name, "text", raw[1:-1] if raw.endswith('"') else raw[1:])
    if shape == "number":
        try:
            return Stat(name, kind if kind in ("counter", "gauge") else "unknown", parse_number(raw))
        except ValueError as exc:
            raise StatsFormatError(f"{name}: not a number: {raw[:40]!r}") from exc
    return Stat(name, "histogram", None, parse_quantiles(raw))


def split_text(body: str) -> list[tuple[str, str]]:
    """Split a text `/stats` body into (name, raw value) pairs, names exactly as printed."""
    pairs = []
    for lineno, line in enumerate(body.splitlines(), 1):
        name, sep, raw = line.partition(": ")
        if not sep or not name:
            if not line.strip():
                continue
            raise StatsFormatError(f"line {lineno} is not 'name: value': {line[:60]!r}")
        pairs.append((name, raw))
    return pairs


def parse_text(body: str) -> list[Stat]:
    return [stat_from_raw(name, raw) for name, raw in split_text(body)]


def _quantile_label(q: float) -> str:
    return f"P{q:g}"


def parse_json(body: str) -> list[Stat]:
    """Parse `/stats?format=json`: {"stats": [{"name", "value"}, ..., {"histograms": {...}}]}.

    Every shape is checked, so another Envoy version's JSON raises StatsFormatError,
    never a TypeError from deep inside."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise StatsFormatError("not JSON: Envoy's /stats?format=json expected") from exc
    entries = doc.get("stats") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise StatsFormatError("not Envoy's /stats?format=json (no 'stats' list)")
    out: list[Stat] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise StatsFormatError(f"malformed /stats JSON entry: {str(entry)[:60]!r}")
        if "histograms" in entry:
            out.extend(_json_histograms(entry["histograms"]))
            continue
        name, value = entry.get("name"), entry.get("value")
        if not isinstance(name, str):
            raise StatsFormatError(f"malformed /stats JSON entry (no name): {str(entry)[:60]!r}")
        if isinstance(value, str):
            out.append(Stat(name, "text", value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(Stat(name, "unknown", value))
        else:
            raise StatsFormatError(f"{name}: unexpected value {str(value)[:40]!r}")
    return out


def _json_number(v: object, what: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise StatsFormatError(f"{what}: not a number: {str(v)[:40]!r}")


def _json_histograms(hist: object) -> Iterable[Stat]:
    if not isinstance(hist, dict):
        raise StatsFormatError("malformed /stats JSON histograms: not an object")
    supported, computed = hist.get("supported_quantiles", []), hist.get("computed_quantiles", [])
    if not isinstance(supported, list) or not isinstance(computed, list):
        raise StatsFormatError("malformed /stats JSON histograms: quantiles are not lists")
    labels = []
    for q in supported:
        number = _json_number(q, "supported quantile")
        if number is None:
            raise StatsFormatError("malformed /stats JSON histograms: a null quantile")
        labels.append(_quantile_label(number))
    out = []
    for c in computed:
        name = c.get("name") if isinstance(c, dict) else None
        values = c.get("values", []) if isinstance(c, dict) else None
        if not isinstance(name, str) or not isinstance(values, list):
            raise StatsFormatError(f"malformed /stats JSON histogram: {str(c)[:60]!r}")
        quantiles = {}
        for label, v in zip(labels, values, strict=False):
            if not isinstance(v, dict):
                raise StatsFormatError(f"{name}: malformed quantile {str(v)[:40]!r}")
            quantiles[label] = Quantile(
                _json_number(v.get("interval"), name), _json_number(v.get("cumulative"), name)
            )
        out.append(Stat(name, "histogram", None, quantiles))
    return out


def parse_body(body: str) -> list[Stat]:
    """Parse a saved `/stats` body, detecting text or JSON from its first character."""
    if body.lstrip()[:1] == "{":
        return parse_json(body)
    return parse_text(body)


def records(stats: Iterable[Stat]) -> list[dict[str, object]]:
    return [s.to_json() for s in stats]


def text_records(body: str, keep: Callable[[str], bool] | None = None) -> list[dict[str, object]]:
    """The JSON records of a text body, built straight from the lines (the headless hot path).

    `keep` is an optional predicate on names. Counters and gauges are `unknown`:
    a saved text body does not say which is which.
    """
    out: list[dict[str, object]] = []
    append = out.append
    for name, raw in split_text(body):
        if keep is not None and not keep(name):
            continue
        first = raw[:1]
        if first.isdigit():
            try:
                append({"name": name, "kind": "unknown", "value": int(raw)})
            except ValueError:
                try:
                    append({"name": name, "kind": "unknown", "value": float(raw)})
                except ValueError as exc:
                    raise StatsFormatError(f"{name}: not a number: {raw[:40]!r}") from exc
        elif first == '"':
            append({"name": name, "kind": "text", "value": raw[1:-1] if raw.endswith('"') else raw[1:]})
        else:
            append(stat_from_raw(name, raw).to_json())
    return out
