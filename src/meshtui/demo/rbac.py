"""Verb-aware RBAC for the simulated API server, worded as the real one words denials.

The verb of a request comes from its HTTP method as kubernetes/apiserver's
pkg/endpoints/request/requestinfo.go resolves it: POST is `create`, GET/HEAD is
`get`, and a GET without a name is `list` (or `watch` with `watch=true`). So a
websocket port-forward (an upgraded GET) is authorized as `get` on
`pods/portforward`, kubectl's older SPDY POST as `create`. From Kubernetes 1.35
the pod registry also requires `create` on the websocket upgrade
(AuthorizePodWebsocketUpgradeCreatePermission, kubernetes/kubernetes#134577):
`require_create_on_upgrade` switches that on.

The denial text follows responsewriters/errors.go forbiddenMessage and
apimachinery's errors.NewForbidden: `pods "NAME" is forbidden: User "U" cannot
VERB resource "pods/SUB" in API group "" in the namespace "NS"`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

USER = "system:serviceaccount:default:meshtui"  # the demo token's user


@dataclass
class Rbac:
    """The demo user's Role: None allows everything (a cluster-admin binding)."""

    rules: dict[str, set[str]] | None = None  # resource ("pods", "pods/portforward") -> verbs
    require_create_on_upgrade: bool = False  # the Kubernetes 1.35 behaviour

    def set_role(self, doc: dict[str, Any]) -> None:
        """From `{"rules": [{"resources": [...], "verbs": [...]}] | null, "version": "1.35"}`."""
        rules = doc.get("rules")
        if rules is None:
            self.rules = None
        else:
            self.rules = {}
            for rule in rules:
                for resource in rule.get("resources", []):
                    self.rules.setdefault(resource, set()).update(rule.get("verbs", []))
        version = tuple(int(x) for x in str(doc.get("version") or "1.33").split(".")[:2])
        self.require_create_on_upgrade = version >= (1, 35)

    def allows(self, verb: str, resource: str) -> bool:
        if self.rules is None:
            return True
        verbs = self.rules.get(resource, set())
        return verb in verbs or "*" in verbs

    def check(
        self,
        method: str,
        resource: str,
        name: str,
        namespace: str | None,
        watch: bool,
        upgrade: bool,
        user: str = USER,
    ) -> str | None:
        """The denial message for this request, or None when the Role allows it."""
        verbs = [request_verb(method, name, watch)]
        if upgrade and resource.startswith("pods/") and self.require_create_on_upgrade:
            verbs.append("create")
        for verb in verbs:
            if not self.allows(verb, resource):
                return forbidden_message(verb, resource, name, namespace, user)
        return None


def request_verb(method: str, name: str, watch: bool) -> str:
    """requestinfo.go: the kube verb of a resource request."""
    verb = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch"}.get(
        method.upper(), "delete" if method.upper() == "DELETE" else ""
    )
    if not name and verb == "get":
        return "watch" if watch else "list"
    return verb


def forbidden_message(verb: str, resource: str, name: str, namespace: str | None, user: str = USER) -> str:
    base = resource.split("/", 1)[0]
    subject = f'{base} "{name}"' if name else base
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    return (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" in API group "" {scope}'
    )
