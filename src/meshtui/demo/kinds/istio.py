"""networking.istio.io VirtualService, DestinationRule and EnvoyFilter, with Istio's admission.

Served versions are Istio 1.17's CRDs (VirtualService and DestinationRule: v1beta1 and
v1alpha3; EnvoyFilter: v1alpha3 only); columns are the CRDs' additionalPrinterColumns.
Admission follows istio/istio pkg/webhooks/validation/server/server.go: a refused object
gets `admission webhook "validation.istio.io" denied the request: configuration is
invalid: ...` (messages from pkg/config/validation/validation.go, here with the field
named), counted in galley_validation_failed; an accepted one in galley_validation_passed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from meshtui.demo.kinds.store import ApiError, OnChange, Resource

GROUP = "networking.istio.io"
WEBHOOK = 'admission webhook "validation.istio.io" denied the request: configuration is invalid: '
Count = Callable[[str, str, str, str | None], None]  # version, resource, kind of outcome, reason
_SUBSET = re.compile(r"^[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$")


def _percent(value: Any, where: str) -> str | None:
    if not isinstance(value, (int, float)) or not 0 <= value <= 100:
        return f"{where}: percentage {value} is not in range 0..100"
    return None


def _schema_error(kind: str, name: str, field: str, value: Any, want: str) -> ApiError:
    """The API server's structural-schema check, before the webhook (a 422 naming the field)."""
    return ApiError(
        422,
        "Invalid",
        f'{kind}.{GROUP} "{name}" is invalid: {field}: Invalid value: "{type(value).__name__}": '
        f"{field} in body must be of type {want}",
        {"name": name, "group": GROUP, "kind": kind},
    )


def validate_virtual_service(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec") or {}
    errs: list[str] = []
    for i, rule in enumerate(spec.get("http") or []):
        where = f"spec.http[{i}]"
        dests = rule.get("route") or []
        if not dests and not rule.get("redirect") and not rule.get("directResponse"):
            errs.append(f"{where}: HTTP route or redirect is required")
        total = 0
        for j, d in enumerate(dests):
            w = d.get("weight", 0)
            if not (d.get("destination") or {}).get("host"):
                errs.append(f"{where}.route[{j}].destination.host: destination is required")
            subset = (d.get("destination") or {}).get("subset")
            if subset is not None and not _SUBSET.match(str(subset)):
                errs.append(f"{where}.route[{j}].destination.subset: subset name is invalid: {subset}")
            if isinstance(w, int) and w < 0:
                errs.append(f"{where}.route[{j}].weight: weight {w} < 0")
            total += w if isinstance(w, int) else 0
        if len(dests) > 1 and total == 0:
            errs.append(f"{where}.route: total destination weight = 0")
        fault = rule.get("fault") or {}
        abort = fault.get("abort")
        if abort is not None:
            status = abort.get("httpStatus")
            if not isinstance(status, int) or not 200 <= status <= 599:
                errs.append(f"{where}.fault.abort.httpStatus: HTTP status {status} is not in range 200-599")
            if e := _percent((abort.get("percentage") or {}).get("value", 100), f"{where}.fault.abort"):
                errs.append(e)
        delay = fault.get("delay")
        if delay is not None and (
            e := _percent((delay.get("percentage") or {}).get("value", 100), f"{where}.fault.delay")
        ):
            errs.append(e)
        retries = rule.get("retries") or {}
        if isinstance(retries.get("attempts"), int) and retries["attempts"] < 0:
            errs.append(f"{where}.retries.attempts: attempts cannot be negative")
    return errs


def validate_destination_rule(obj: dict[str, Any]) -> list[str]:
    spec = obj.get("spec") or {}
    errs: list[str] = []
    if not spec.get("host"):
        errs.append("spec.host: host must be set")  # ValidateWildcardDomain("") in validation.go
    for i, subset in enumerate(spec.get("subsets") or []):
        name = subset.get("name", "")
        if not name:
            errs.append(f"spec.subsets[{i}].name: subset name cannot be empty")
        elif not _SUBSET.match(name):
            errs.append(f"spec.subsets[{i}].name: subset name is invalid: {name}")
    return errs


def _schema(kind: str, obj: dict[str, Any]) -> ApiError | None:
    name = obj["metadata"]["name"]
    spec = obj.get("spec")
    if spec is not None and not isinstance(spec, dict):
        return _schema_error(kind, name, "spec", spec, "object")
    if kind == "VirtualService":
        for i, rule in enumerate((spec or {}).get("http") or []):
            for j, d in enumerate(rule.get("route") or []):
                if "weight" in d and not isinstance(d["weight"], int):
                    return _schema_error(
                        kind, name, f"spec.http[{i}].route[{j}].weight", d["weight"], "integer"
                    )
    return None


def resources(count: Count, on_change: Callable[[str], OnChange]) -> list[Resource]:
    def admit(
        validate: Callable[[dict[str, Any]], list[str]],
    ) -> Callable[[Resource, dict[str, Any]], ApiError | None]:
        def check(res: Resource, obj: dict[str, Any]) -> ApiError | None:
            version = (obj.get("apiVersion") or "").rsplit("/", 1)[-1] or res.versions[0]
            err = _schema(res.kind, obj)
            if err is not None:
                return err
            errs = validate(obj)
            if errs:
                count(version, res.plural, "failed", "invalid_resource")
                return ApiError(400, "", WEBHOOK + "; ".join(errs))
            count(version, res.plural, "passed", None)
            return None

        return check

    def hosts(o: dict[str, Any]) -> str:
        return json.dumps((o.get("spec") or {}).get("hosts") or [])

    vs = Resource(
        GROUP,
        ["v1beta1", "v1alpha3"],
        "virtualservices",
        "VirtualService",
        ["vs"],
        [("Gateways", lambda o: json.dumps((o.get("spec") or {}).get("gateways") or [])), ("Hosts", hosts)],
        admit=admit(validate_virtual_service),
        on_change=on_change("VirtualService"),
    )
    dr = Resource(
        GROUP,
        ["v1beta1", "v1alpha3"],
        "destinationrules",
        "DestinationRule",
        ["dr"],
        [("Host", lambda o: (o.get("spec") or {}).get("host", ""))],
        admit=admit(validate_destination_rule),
        on_change=on_change("DestinationRule"),
    )
    # EnvoyFilter patches are passed through as they are: Istio checks little of them, and a
    # bad one is what the proxies reject
    ef = Resource(
        GROUP,
        ["v1alpha3"],
        "envoyfilters",
        "EnvoyFilter",
        [],
        admit=admit(lambda _: []),
        on_change=on_change("EnvoyFilter"),
    )
    return [vs, dr, ef]
