"""An `auth-provider: oidc` user's id-token, refreshed for as long as meshtui runs.

The kubernetes client refreshes an OIDC id-token only while loading the kubeconfig (and
then without checking the identity provider's certificate unless the kubeconfig names its
CA), so once the token expires every request gets 401 until restart. Here, as client-go's
oidc plugin does (plugin/pkg/client/auth/oidc/oidc.go): the id-token is refreshed when its
`exp` has passed and once after a 401, with the refresh token, at the token endpoint the
issuer's discovery document names (`{idp-issuer-url}/.well-known/openid-configuration`),
the client id and secret as HTTP basic auth (RFC 6749 2.3.1), the issuer's TLS verified
against `idp-certificate-authority(-data)` or the system's CAs. A refresh runs in the
caller's thread, never on the UI's event loop (kube/credentials.py's rule). The new tokens
live in memory: the kubeconfig file is not rewritten.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from typing import Any

from kubernetes.config.config_exception import ConfigException

SKEW = 10.0  # seconds before `exp` that a token counts as expired, as for exec plugins


def _exp(token: str) -> float | None:
    """The JWT's `exp` (Unix seconds), None if it has none or is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return float(claims["exp"]) if "exp" in claims else None
    except (ValueError, TypeError, KeyError):
        return None


class OidcToken:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = dict(config)
        self._lock = threading.Lock()
        self.id_token = str(config.get("id-token") or "")
        self.refreshes = 0

    def _expired(self) -> bool:
        exp = _exp(self.id_token)
        return not self.id_token or (exp is not None and exp - SKEW <= time.time())

    def bearer(self) -> str:
        with self._lock:
            if self._expired():
                self._refresh()
            return self.id_token

    def refresh(self, rejected: str | None) -> None:
        with self._lock:
            if rejected is not None and self.id_token and not rejected.strip().endswith(self.id_token):
                return  # another caller already refreshed it
            self._refresh()

    def hook(self, cfg: Any) -> None:
        cfg.api_key["BearerToken"] = f"Bearer {self.bearer()}"

    def _verify(self) -> ssl.SSLContext:
        data, path = (
            self.config.get("idp-certificate-authority-data"),
            self.config.get("idp-certificate-authority"),
        )
        if data:
            return ssl.create_default_context(cadata=base64.b64decode(data).decode())
        return ssl.create_default_context(cafile=path or None)

    def _refresh(self) -> None:
        from meshtui import http

        refresh_token, issuer = self.config.get("refresh-token"), str(self.config.get("idp-issuer-url") or "")
        if not refresh_token or not issuer:
            raise ConfigException("oidc: the id-token expired and there is no refresh-token: log in again")
        try:
            with http.sync_client(issuer, timeout=10, verify=self._verify()) as client:
                found = client.get(issuer.rstrip("/") + "/.well-known/openid-configuration")
                found.raise_for_status()
                endpoint = str(found.json()["token_endpoint"])
                answer = client.post(
                    endpoint,
                    data={"grant_type": "refresh_token", "refresh_token": str(refresh_token)},
                    auth=(
                        str(self.config.get("client-id") or ""),
                        str(self.config.get("client-secret") or ""),
                    ),
                    headers={"Accept": "application/json"},
                )
                body = answer.json() if answer.content else {}
        except Exception as exc:  # network, TLS, a body that is not JSON: one line, the cause kept
            raise ConfigException(f"oidc: cannot refresh the id-token at {issuer}: {str(exc)[:160]}") from exc
        if answer.status_code != 200:
            why = body.get("error_description") or body.get("error") or f"HTTP {answer.status_code}"
            raise ConfigException(f"oidc: the identity provider refused the refresh ({why}): log in again")
        if not body.get("id_token"):
            raise ConfigException("oidc: the token response did not contain an id_token")
        self.id_token = str(body["id_token"])
        self.config["refresh-token"] = body.get("refresh_token") or refresh_token
        self.refreshes += 1
