"""Label and field selectors for the simulated API server's pod lists and watches.

Label selectors as apimachinery's labels.Parse reads them: `k=v`, `k==v`, `k!=v`,
`k in (a,b)`, `k notin (a,b)`, `k`, `!k`, joined by commas (`!=` and `notin` also match a
pod without the label). Field selectors as fields.ParseSelector, on the fields the pod
registry makes selectable (pkg/registry/core/pod/strategy.go PodToSelectableFields); any
other field is refused as the API server refuses it, `field label not supported: X`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Test = Callable[[dict[str, Any]], bool]

POD_FIELDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "metadata.name": lambda p: p["metadata"].get("name", ""),
    "metadata.namespace": lambda p: p["metadata"].get("namespace", ""),
    "spec.nodeName": lambda p: p.get("spec", {}).get("nodeName", ""),
    "spec.restartPolicy": lambda p: p.get("spec", {}).get("restartPolicy", ""),
    "spec.schedulerName": lambda p: p.get("spec", {}).get("schedulerName", ""),
    "spec.serviceAccountName": lambda p: p.get("spec", {}).get("serviceAccountName", ""),
    "spec.hostNetwork": lambda p: str(bool(p.get("spec", {}).get("hostNetwork"))).lower(),
    "status.phase": lambda p: p.get("status", {}).get("phase", ""),
    "status.podIP": lambda p: p.get("status", {}).get("podIP", ""),
    "status.nominatedNodeName": lambda p: p.get("status", {}).get("nominatedNodeName", ""),
}


class SelectorError(ValueError):
    pass


def _split(text: str) -> list[str]:
    """Requirements split on the commas outside `( )`."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [p.strip() for p in [*parts, current] if p.strip()]


_SET = re.compile(r"^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$")
_EQ = re.compile(r"^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$")
_EXISTS = re.compile(r"^(!?)\s*([\w./-]+)$")


def labels(text: str) -> Test:
    tests: list[Test] = []
    for req in _split(text or ""):
        if m := _SET.match(req):
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            tests.append(_label_in(key, values, op == "in"))
        elif m := _EQ.match(req):
            key, op, value = m.groups()
            tests.append(_label_in(key, {value}, op != "!="))
        elif m := _EXISTS.match(req):
            negate, key = m.groups()
            tests.append(_label_exists(key, present=not negate))
        else:
            raise SelectorError(f"unable to parse requirement: {req!r}")
    return lambda pod: all(t(pod) for t in tests)


def _labels(pod: dict[str, Any]) -> dict[str, str]:
    return pod.get("metadata", {}).get("labels") or {}


def _label_exists(key: str, present: bool) -> Test:
    return lambda p: (key in _labels(p)) == present


def _label_in(key: str, values: set[str], inside: bool) -> Test:
    if inside:
        return lambda p: _labels(p).get(key) in values
    return lambda p: key not in _labels(p) or _labels(p)[key] not in values


def fields(text: str) -> Test:
    tests: list[Test] = []
    for req in _split(text or ""):
        m = re.match(r"^([\w.]+)\s*(==|=|!=)\s*(.*)$", req)
        if not m:
            raise SelectorError(f"invalid selector: {req!r}; can't understand {req!r}")
        name, op, value = m.groups()
        getter = POD_FIELDS.get(name)
        if getter is None:
            raise SelectorError(f"field label not supported: {name}")  # the pod conversion's words
        tests.append(_field_is(getter, value, equal=op != "!="))
    return lambda pod: all(t(pod) for t in tests)


def _field_is(getter: Callable[[dict[str, Any]], str], value: str, equal: bool) -> Test:
    return lambda p: (getter(p) == value) == equal


def pods(label_selector: str | None, field_selector: str | None) -> Test:
    """One test for both selectors; SelectorError with the API server's words if either is bad."""
    by_label, by_field = labels(label_selector or ""), fields(field_selector or "")
    return lambda pod: by_label(pod) and by_field(pod)
