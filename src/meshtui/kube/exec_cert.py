"""An exec plugin's client certificate, renewed as client-go renews it.

client-go's exec authenticator hands TLS a GetClientCertificate callback: each new
connection asks for the certificate, and one past the plugin's `expirationTimestamp` is
replaced by running the plugin again; after a renewal it closes the connections made with
the old one (plugin/pkg/client/auth/exec/exec.go, connTracker.CloseAll). The kubernetes
client reads a certificate once, from `client-certificate-data` written to a file.

Here the certificate and key are files in the process's private folder, replaced in place
(renamed over, so a connection never reads half of one) when the certificate is due, before
the request that would use it; every HTTP connection and websocket opened later presents
the new one, and the kubernetes clients' pooled connections are dropped, since the API
server checks the certificate's dates on every request.
"""

from __future__ import annotations

import datetime
import os
import threading
import weakref
from pathlib import Path
from typing import Any

from kubernetes.config.dateutil import parse_rfc3339

SKEW = datetime.timedelta(seconds=10)  # renewed this long before it expires, as tokens are


class ExecCertificate:
    def __init__(self, plugin: Any, folder: Path, status: dict[str, Any]) -> None:
        self._plugin = plugin
        self._lock = threading.Lock()
        self.cert_file, self.key_file = folder / "exec-client.crt", folder / "exec-client.key"
        self._clients: weakref.WeakSet[Any] = weakref.WeakSet()
        self.renewals = 0
        self._expiry: datetime.datetime | None = None
        self._take(status)

    def _take(self, status: dict[str, Any]) -> None:
        cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
        if not cert or not key:
            from kubernetes.config.config_exception import ConfigException

            raise ConfigException("exec: the plugin gave no client certificate this time")
        for path, text, mode in ((self.key_file, key, 0o600), (self.cert_file, cert, 0o644)):
            fresh = path.with_suffix(".new")
            fresh.touch(mode=mode)
            fresh.write_text(str(text))
            os.replace(fresh, path)
        stamp = status.get("expirationTimestamp")
        self._expiry = parse_rfc3339(stamp) if stamp else None

    def _due(self) -> bool:
        now = datetime.datetime.now(datetime.timezone.utc)
        return self._expiry is not None and self._expiry - SKEW <= now

    def _renew(self) -> None:
        self._take(self._plugin.run())
        self.renewals += 1
        for api in list(self._clients):  # their connections carry the old certificate
            api.rest_client.pool_manager.clear()

    def track(self, api: Any) -> None:
        """A kubernetes ApiClient whose pooled connections go when the certificate changes."""
        self._clients.add(api)

    def hook(self, cfg: Any) -> None:
        """Before every request (KubeTarget runs it; the client's own refresh hook runs only
        for a bearer token): renew a certificate that is due."""
        with self._lock:
            if self._due():
                self._renew()

    def refresh(self, rejected: str | None) -> None:
        """After a 401: the server no longer takes this certificate; get a new one."""
        with self._lock:
            self._renew()
