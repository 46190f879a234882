"""The kubeconfig user's credentials, kept fresh without blocking the event loop.

The kubernetes client re-runs an exec plugin from a hook inside every request's
`auth_settings()`; that hook also writes the kubeconfig's host, TLS name and proxy
back into the Configuration each time (undoing an SSH tunnel's rewrite), and two
threads can run it at once. Here the hook only sets the bearer credential, under a lock:

- an exec plugin runs when there is no token yet or it is past its
  `expirationTimestamp`, and once more after a 401 -- unless another caller already
  replaced the rejected token meanwhile (client-go plugin/pkg/client/auth/exec/exec.go
  `maybeRefreshCreds`); callers on the event loop reach it through `asyncio.to_thread`;
- other users keep the client's own hook (auth-provider refreshes), minus its writes.
"""

from __future__ import annotations

import datetime
import os
import threading
from typing import Any

from kubernetes.config.config_exception import ConfigException
from kubernetes.config.dateutil import parse_rfc3339
from kubernetes.config.exec_provider import ExecProvider

SKEW = datetime.timedelta(seconds=10)  # refresh a little early, as client-go does


class ExecCredentials:
    """An exec plugin's bearer token: cached, refreshed on expiry or after a 401."""

    def __init__(self, provider: Any, token: str | None, expiry: datetime.datetime | None) -> None:
        self._provider = provider
        self._lock = threading.Lock()
        self._token, self._expiry = token, expiry
        self.runs = 0  # plugin runs after the first (tests, and the status of a refresh)

    def _expired(self) -> bool:
        now = datetime.datetime.now(datetime.timezone.utc)
        return self._expiry is not None and self._expiry - SKEW <= now

    def _run(self) -> None:
        status = self._provider.run()
        token = status.get("token")
        if not token:
            raise ConfigException("exec: the plugin gave no token")
        stamp = status.get("expirationTimestamp")
        self._token, self._expiry = str(token), parse_rfc3339(stamp) if stamp else None
        self.runs += 1

    def bearer(self) -> str:
        with self._lock:
            if self._token is None or self._expired():
                self._run()
            assert self._token is not None
            return self._token

    def refresh(self, rejected: str | None) -> None:
        """The API server answered 401 to `rejected` (a header or token): run the plugin
        again, unless another caller already did since."""
        with self._lock:
            if rejected is not None and self._token is not None and not rejected.endswith(self._token):
                return
            self._run()

    def hook(self, cfg: Any) -> None:
        cfg.api_key["BearerToken"] = f"Bearer {self.bearer()}"


def _preserving(hook: Any) -> Any:
    """The client's hook without its writes of host, TLS name and proxy (and one at a time)."""
    lock = threading.Lock()

    def run(cfg: Any) -> None:
        with lock:
            keep = {k: getattr(cfg, k, None) for k in ("host", "tls_server_name", "proxy")}
            hook(cfg)
            for key, value in keep.items():
                if getattr(cfg, key, None) != value:
                    setattr(cfg, key, value)

    return run


def install(cfg: Any, merged: Any, context: str, loader: Any) -> ExecCredentials | None:
    """Put our refresh in place of the client's on `cfg`; the exec credentials if any."""
    ctx = merged["contexts"].get_with_name(context)["context"]
    user = merged["users"].get_with_name(ctx["user"])["user"] if ctx.safe_get("user") else None
    if user is None or not user.safe_get("exec"):
        if cfg.refresh_api_key_hook is not None:
            cfg.refresh_api_key_hook = _preserving(cfg.refresh_api_key_hook)
        return None
    cluster = merged["clusters"].get_with_name(ctx["cluster"])["cluster"]
    base = os.path.abspath(os.path.dirname(cluster.path)) if cluster.path else ""  # as the client
    header = str(cfg.api_key.get("BearerToken") or "")
    token = header.removeprefix("Bearer ") or None
    creds = ExecCredentials(ExecProvider(user["exec"], base, cluster), token, getattr(loader, "expiry", None))
    cfg.refresh_api_key_hook = creds.hook
    return creds
