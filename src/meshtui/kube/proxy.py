"""Which proxy the connections to the API server go through, picked as client-go picks it.

One answer for every connection (the pods list and watch through the kubernetes client,
the port-forward websockets), stored as `Configuration.proxy`:

- the kubeconfig cluster's `proxy-url` wins, for every request (client-go
  transport: `http.ProxyURL`, NO_PROXY not consulted);
- else the environment, as Go's `http.ProxyFromEnvironment` (golang.org/x/net/http/httpproxy
  `useProxy`): HTTPS_PROXY for an https server, HTTP_PROXY for http, not for `localhost`
  or a loopback address, not for a host NO_PROXY matches (names, `.suffix`, CIDRs, `*`).
"""

from __future__ import annotations

import ipaddress
import urllib.parse
import urllib.request
from typing import Any

from kubernetes.client.rest import should_bypass_proxies


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def env_proxy(server: str) -> str | None:
    """The environment's proxy for `server`, or None where Go would go direct."""
    proxies = urllib.request.getproxies_environment()
    url = urllib.parse.urlsplit(server)
    proxy = proxies.get(url.scheme)
    if not proxy or _loopback(url.hostname or ""):
        return None
    return None if should_bypass_proxies(server, proxies.get("no", "")) else proxy


class ProxyError(ValueError):
    """A proxy meshtui cannot speak through, in one line."""


# the schemes both HTTP stacks here speak (urllib3 for the kubernetes client, our CONNECT
# for the websockets); client-go also speaks socks5, which would need PySocks and a SOCKS
# path for the websockets: refused in one line rather than failing later as a reset
SUPPORTED = ("http", "https")


def settle(cfg: Any, proxy_url: str | None) -> None:
    """Fix `cfg.proxy` for this target: `proxy_url` from the kubeconfig, else the env's."""
    proxy = proxy_url or env_proxy(cfg.host)
    scheme = urllib.parse.urlsplit(proxy).scheme if proxy else ""
    if proxy and scheme not in SUPPORTED:
        source = "the kubeconfig's proxy-url" if proxy_url else "the environment's proxy"
        raise ProxyError(
            f"{source} {scheme}:// is not supported (http:// and https:// proxies are): "
            "reach the API server with --ssh HOST instead"
        )
    cfg.proxy = proxy  # the setter stops later host changes re-reading env
    cfg.no_proxy = None  # decided here once; the client must not bypass a proxy-url by NO_PROXY


def _plain(node: Any) -> Any:
    return node.value if hasattr(node, "value") else node  # the client's ConfigNode, or a dict


def cluster_proxy_url(merged: Any, context: str | None) -> str | None:
    """The `proxy-url` of the cluster the (given or current) context names, if any."""
    doc = _plain(merged)
    name = context or doc.get("current-context")
    contexts = [_plain(c) for c in doc.get("contexts") or []]
    ctx = next((c for c in contexts if c.get("name") == name), None)
    cluster_name = (_plain(ctx.get("context")) or {}).get("cluster") if ctx else None
    clusters = [_plain(c) for c in doc.get("clusters") or []]
    entry = next((c for c in clusters if c.get("name") == cluster_name), None)
    url = (_plain(entry.get("cluster")) or {}).get("proxy-url") if entry else None
    return str(url) if url else None
