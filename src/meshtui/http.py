"""The one HTTP layer: every HTTP client meshtui opens (Envoy admin, istiod's 15014, Jaeger's
query service, the force-traced request, the load generator's) is set up here, and httpx's
failures become one line here.

- **No proxy for loopback.** httpx honours HTTPS_PROXY/HTTP_PROXY (`trust_env`) and, unlike
  Go's `http.ProxyFromEnvironment`, does not exempt loopback: with a corporate proxy set, a
  port-forward on 127.0.0.1 would be sent to the proxy. A loopback address (every
  port-forward) never goes through one; another host (`--jaeger-url https://...`) gets the
  environment's proxy as curl and kubectl would give it.
- **Timeouts**: a connect timeout of at most 3 s (a forward that cannot reach its pod
  says so fast), the rest as the caller asks.
- **Errors**: `failures(ErrorType, what, where)` maps httpx's exceptions to the backend's
  own error type with a human line: `cannot connect to istiod at URL: connection refused`.
- **Bodies freed at once** (`released`): httpx binds a response and its stream to each
  other (`BoundAsyncStream(response=...)`, `response.stream = ...`), a reference cycle
  that outlives the read, so the response, its bytes and its decoded text wait for the
  cyclic GC. meshtui tunes that GC to run rarely (ui/app.py), so each second's `/stats`
  bodies (150 KB-1 MB) piled up until a full pass, and a 30-minute run at 50,000 stats
  grew 11% (bench/soak.py; tracemalloc showed ~80 bodies, 24 MB, waiting). Once the
  body is read the stream is spent, so replacing it breaks the cycle.

httpx is imported at the first client, not with the app: it takes ~70 ms to import and
the first frame needs none of it (bench/coldstart.py).
"""

from __future__ import annotations

import contextlib
import ipaddress
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp
    import httpx

CONNECT_TIMEOUT = 3.0


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _options(
    url: str, timeout: float, connections: int, follow_redirects: bool, base: bool, verify: Any = True
) -> dict[str, Any]:
    import httpx

    options: dict[str, Any] = {
        "timeout": httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
        "limits": httpx.Limits(max_connections=connections, max_keepalive_connections=1),
        "trust_env": not is_loopback(url),  # never send a port-forward through an HTTP proxy
        "follow_redirects": follow_redirects,
        "verify": verify,
    }
    if base:
        options["base_url"] = url
    return options


def async_client(
    url: str, timeout: float = 5.0, *, connections: int = 2, follow_redirects: bool = False, base: bool = True
) -> httpx.AsyncClient:
    """A client for one server at `url` (its base URL unless `base=False`)."""
    import httpx

    return httpx.AsyncClient(**_options(url, timeout, connections, follow_redirects, base))


def load_session(url: str, timeout: float, connections: int) -> aiohttp.ClientSession:
    """The load generator's client (`meshtui load`): aiohttp's, not httpx's. A request through
    httpx costs ~1.7 ms of CPU: 34% of a core at 200 requests/s, and it saturated a core
    before 500/s; aiohttp's ~0.35 ms holds 500/s at 17% (bench/load.py). The same rules:
    no proxy for loopback (aiohttp reads the environment's only when asked), the connect
    timeout capped; `connections` kept open between requests."""
    import aiohttp

    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=timeout, connect=min(timeout, CONNECT_TIMEOUT)),
        trust_env=not is_loopback(url),
    )


def sync_client(
    url: str,
    timeout: float = 5.0,
    *,
    connections: int = 2,
    follow_redirects: bool = False,
    verify: Any = True,
) -> httpx.Client:
    """The same, for a body received in a thread (megabytes that would stall the event loop,
    a credential refreshed where the kubernetes client waits for it). `verify` as httpx's:
    an ssl.SSLContext for a server's own CA."""
    import httpx

    return httpx.Client(**_options(url, timeout, connections, follow_redirects, True, verify))


def released(response: httpx.Response) -> httpx.Response:
    """The response, its body read, no longer bound to its stream."""
    import httpx

    response.stream = httpx.ByteStream(b"")
    return response


def _why(exc: Exception, refused: str) -> str:
    text = str(exc)
    if "refused" in text.lower() or "all connection attempts failed" in text.lower():
        return refused
    return text.splitlines()[0][:120] if text else type(exc).__name__


@contextlib.contextmanager
def failures(
    error: type[Exception], what: str, where: str, refused: str = "connection refused"
) -> Iterator[None]:
    """httpx's exceptions inside the block, each as `error` with one line a pane can show.

    `what` names the server in the user's words (`Envoy admin`, `istiod`, `Jaeger`),
    `where` its URL, `refused` what a refused connection means for it."""
    import httpx

    try:
        yield
    except httpx.ConnectError as exc:
        raise error(f"cannot connect to {what} at {where}: {_why(exc, refused)}") from exc
    except httpx.TimeoutException as exc:
        raise error(f"{what} at {where} did not answer in time") from exc
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        raise error(f"connection to {what} at {where} dropped") from exc
    except httpx.HTTPError as exc:
        raise error(f"{what} at {where}: {type(exc).__name__}") from exc


def first_line(response: httpx.Response, width: int = 160) -> str:
    """An error answer's body on one line (Envoy's run over several), or its reason phrase."""
    text = " ".join(response.text.split())
    return text[:width] if text else response.reason_phrase
