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

from dataclasses import dataclass, field
from typing import Any

USER = "system:serviceaccount:default:meshtui"  # the demo token's user
# the subresources whose websocket upgrade 1.35 also authorizes as `create` (the pod
# registry's streaming REST handlers: exec, attach, portforward -- not log or proxy)
STREAMING = ("pods/exec", "pods/attach", "pods/portforward")


Rules = dict[str, set[str]]  # resource ("pods", "pods/portforward", "users") -> verbs


@dataclass
class Rbac:
    """Every user's Role, unless a user has one of its own: None allows everything (a
    cluster-admin binding)."""

    rules: Rules | None = None
    require_create_on_upgrade: bool = False  # the Kubernetes 1.35 behaviour
    by_user: dict[str, Rules | None] = field(default_factory=dict)

    def set_role(self, doc: dict[str, Any]) -> None:
        """From `{"rules": [{"resources": [...], "verbs": [...]}] | null, "version": "1.35"}`,
        with `"user": NAME` for that user's own Role."""
        raw = doc.get("rules")
        rules: Rules | None = None
        if raw is not None:
            rules = {}
            for rule in raw:
                for resource in rule.get("resources", []):
                    rules.setdefault(resource, set()).update(rule.get("verbs", []))
        if doc.get("user"):
            self.by_user[str(doc["user"])] = rules
            return
        self.rules = rules
        version = tuple(int(x) for x in str(doc.get("version") or "1.33").split(".")[:2])
        self.require_create_on_upgrade = version >= (1, 35)

    def allows(self, verb: str, resource: str, user: str = USER) -> bool:
        rules = self.by_user.get(user, self.rules)
        if rules is None:
            return True
        verbs = rules.get(resource, set())
        return verb in verbs or "*" in verbs

    def impersonate(self, user: str, headers: Any) -> tuple[str, tuple[str, ...], str | None]:
        """The identity a request acts as, after the Impersonate-* headers, and the denial
        if `user` may not take it (apiserver pkg/endpoints/filters/impersonation.go: the
        `impersonate` verb on users, groups and uids, each value checked on its own)."""
        acting = headers.get("Impersonate-User", "")
        groups = tuple(headers.getall("Impersonate-Group", ()))
        uid = headers.get("Impersonate-Uid", "")
        if not acting:
            if groups or uid:
                return user, (), "requested impersonation without a user (Impersonate-User)"
            return user, (), None
        wanted = [("users", acting), *(("groups", g) for g in groups)]
        wanted += [("uids", uid)] if uid else []
        for resource, name in wanted:
            if not self.allows("impersonate", resource, user):
                group = "authentication.k8s.io" if resource == "uids" else ""
                return (
                    user,
                    (),
                    (
                        f'{resource} "{name}" is forbidden: User "{user}" cannot impersonate resource '
                        f'"{resource}" in API group "{group}" at the cluster scope'
                    ),
                )
        return acting, groups, None

    def check(
        self,
        method: str,
        resource: str,
        name: str,
        namespace: str | None,
        watch: bool,
        upgrade: bool,
        user: str = USER,
        group: str = "",
    ) -> str | None:
        """The denial message for this request, or None when the Role allows it."""
        verb = request_verb(method, name, watch)
        if not self.allows(verb, resource, user):
            return forbidden_message(verb, resource, name, namespace, user, group)
        streaming = upgrade and resource in STREAMING and self.require_create_on_upgrade
        if streaming and not self.allows("create", resource, user):
            # checked in the pod registry's handler, not the authorization filter: the
            # message is errors.NewForbidden with the authorizer's reason, which RBAC
            # leaves empty -- the verb is not named (kubernetes/kubernetes#134577)
            return f'{resource.split("/", 1)[0]} "{name}" is forbidden: '
        return None


def request_verb(method: str, name: str, watch: bool) -> str:
    """requestinfo.go: the kube verb of a resource request."""
    verb = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch"}.get(
        method.upper(), "delete" if method.upper() == "DELETE" else ""
    )
    if not name and verb == "get":
        return "watch" if watch else "list"
    return verb


def forbidden_message(
    verb: str, resource: str, name: str, namespace: str | None, user: str = USER, group: str = ""
) -> str:
    base = resource.split("/", 1)[0]
    # a group's resource is named with it: `virtualservices.networking.istio.io "x"`
    subject = (f"{base}.{group}" if group else base) + (f' "{name}"' if name else "")
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    denied = f'User "{user}" cannot {verb} resource "{resource}" in API group "{group}" {scope}'
    return f"{subject} is forbidden: {denied}"
