"""Impersonation from the kubeconfig's user (`as`, `as-groups`, `as-uid`,
`as-user-extra`: what `kubectl --as` and friends set), sent as client-go sends it.

client-go's ImpersonatingRoundTripper (transport/round_trippers.go) adds Impersonate-User,
one Impersonate-Group line per group, Impersonate-Uid and Impersonate-Extra-<key> to every
request; the API server then acts as that identity, after checking that the real user may
`impersonate` it. A user who narrowed themselves this way must not be served as the broader
identity underneath, so every request carries them: the list and watch (through the
kubernetes client, below) and the port-forward's websocket (KubeTarget.headers()).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

# the characters of an HTTP token (RFC 7230) that client-go's headerKeyEscape keeps as they
# are; everything else in an extra's key is percent-encoded
_TOKEN_SAFE = "!#$&'*+-.^_`|~"


def headers_for(merged: Any, context: str) -> tuple[tuple[str, str], ...]:
    """The Impersonate-* headers of the context's user, in client-go's order."""
    doc = merged.value if hasattr(merged, "value") else merged
    ctx = next((c for c in doc.get("contexts") or [] if _plain(c).get("name") == context), None)
    user_name = (_plain(_plain(ctx).get("context")) or {}).get("user") if ctx else None
    entry = next((u for u in doc.get("users") or [] if _plain(u).get("name") == user_name), None)
    user = _plain(_plain(entry).get("user")) if entry else None
    if not isinstance(user, dict) or not user.get("as"):
        return ()
    out = [("Impersonate-User", str(user["as"]))]
    if user.get("as-uid"):
        out.append(("Impersonate-Uid", str(user["as-uid"])))
    out += [("Impersonate-Group", str(g)) for g in user.get("as-groups") or []]
    for key, values in (user.get("as-user-extra") or {}).items():
        name = "Impersonate-Extra-" + urllib.parse.quote(str(key), safe=_TOKEN_SAFE)
        out += [(name, str(v)) for v in values or []]
    return tuple(out)


def _plain(node: Any) -> Any:
    return node.value if hasattr(node, "value") else node  # the client's ConfigNode, or a dict


def with_headers(given: Any, headers: tuple[tuple[str, str], ...]) -> Any:
    """A request's headers (the kubernetes client builds them as a dict) plus `headers`.

    A dict cannot hold a header twice (two groups), so they go into urllib3's
    HTTPHeaderDict, which the client's REST layer passes on as it is and which sends each
    value on a line of its own, as Go's Header.Add does. A comma-joined line would reach
    the API server as one group named "a, b"."""
    from urllib3 import HTTPHeaderDict

    merged = HTTPHeaderDict(given or {})
    for name, value in headers:
        merged.add(name, value)
    return merged
