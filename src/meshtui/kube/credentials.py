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

import base64
import datetime
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes.config.config_exception import ConfigException
from kubernetes.config.dateutil import parse_rfc3339

SKEW = datetime.timedelta(seconds=10)  # refresh a little early, as client-go does
PLUGIN_TIMEOUT = 60.0  # seconds; a plugin that hangs fails the refresh rather than a thread


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


class FileToken:
    """A `tokenFile` user's token, re-read every minute as client-go's cached file token
    source does (transport/token_source.go NewCachedFileTokenSource), and at once after a
    401: projected service-account tokens and rotating credentials are replaced on disk
    while meshtui runs, and the kubernetes client reads the file only once."""

    PERIOD = 60.0

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._token: str | None = None
        self._read_at = 0.0
        self.runs = 0  # re-reads after the first

    def _read(self) -> None:
        try:
            with open(self.path) as f:
                token = f.read().strip()
        except OSError as exc:
            raise ConfigException(f"tokenFile {self.path}: {exc.strerror or exc}") from exc
        if not token:
            raise ConfigException(f"tokenFile {self.path} is empty")
        self.runs += self._token is not None
        self._token, self._read_at = token, time.monotonic()

    def bearer(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() - self._read_at >= self.PERIOD:
                self._read()
            assert self._token is not None
            return self._token

    def refresh(self, rejected: str | None) -> None:
        with self._lock:
            # the client's own first header keeps the file's newline: compare stripped
            if (
                rejected is not None
                and self._token is not None
                and not rejected.strip().endswith(self._token)
            ):
                return  # another caller already read the new one
            self._read()

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


class Plugin:
    """An exec credential plugin, run as client-go runs it (client-go plugin/pkg/client/auth/exec
    exec.go) but never interactive: the TUI owns the terminal, so the plugin gets no stdin,
    its stderr is kept for the error line, and `spec.interactive` says false."""

    def __init__(self, exec_config: Any, cluster: Any) -> None:
        self.config, self.cluster = exec_config, cluster

    def _info(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"interactive": False}
        if self.config.safe_get("provideClusterInfo") and self.cluster is not None:
            spec["cluster"] = exec_cluster(dict(self.cluster.value))
        return {"apiVersion": self.config["apiVersion"], "kind": "ExecCredential", "spec": spec}

    def run(self) -> dict[str, Any]:
        if self.config.safe_get("interactiveMode") == "Always":
            # client-go refuses the same way when stdin is not a terminal; here the TUI
            # owns it, so a plugin that must prompt runs first, by hand
            raise ConfigException(
                f"exec: {self.config['command']} needs a terminal (interactiveMode: Always): "
                "run it once yourself to log in, then start meshtui"
            )
        env = dict(os.environ)
        env.update({e["name"]: e["value"] for e in self.config.safe_get("env") or []})
        env["KUBERNETES_EXEC_INFO"] = json.dumps(self._info())
        args = [self.config["command"], *(self.config.safe_get("args") or [])]
        try:
            done = subprocess.run(
                args,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                # the caller's working directory, as client-go's exec.go leaves cmd.Dir;
                # a relative command is already resolved against the user's file (config.py)
                env=env,
                timeout=PLUGIN_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            # a device-code login prints its code and URL on stderr and waits: show them
            said = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
            said = " ".join(said.split())[-300:]
            raise ConfigException(
                f"exec: {args[0]} gave no credential within {PLUGIN_TIMEOUT:.0f}s"
                + (f": {said}" if said else "")
            ) from exc
        except (OSError, subprocess.SubprocessError) as exc:
            raise ConfigException(f"exec: {args[0]}: {exc}") from exc
        if done.returncode != 0:
            err = " ".join(done.stderr.split())
            raise ConfigException(f"exec: process returned {done.returncode}" + (f". {err}" if err else ""))
        try:
            doc = json.loads(done.stdout)
            status = doc["status"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigException("exec: the plugin did not print an ExecCredential") from exc
        if doc.get("apiVersion") != self.config["apiVersion"]:
            raise ConfigException(f"exec: plugin api version {doc.get('apiVersion')} does not match")
        return dict(status)


def exec_cluster(entry: dict[str, Any]) -> dict[str, Any]:
    """The cluster as an exec plugin is told it with provideClusterInfo: client-go's
    clientauthentication/v1 Cluster, built as rest.ConfigToExecCluster builds it -- the CA
    as data (a file's contents), not the kubeconfig's possibly relative file name; the
    kubeconfig's proxy-url; the exec extension as `config`."""
    cluster: dict[str, Any] = {"server": entry.get("server", "")}
    for key in ("tls-server-name", "insecure-skip-tls-verify", "proxy-url", "disable-compression"):
        if entry.get(key):
            cluster[key] = entry[key]
    ca = entry.get("certificate-authority-data")
    if not ca and entry.get("certificate-authority"):
        with open(entry["certificate-authority"], "rb") as f:  # absolute by now (config.py)
            ca = base64.b64encode(f.read()).decode()
    if ca:
        cluster["certificate-authority-data"] = ca
    for ext in entry.get("extensions") or []:
        if ext.get("name") == "client.authentication.k8s.io/exec":
            cluster["config"] = ext.get("extension")
    return cluster


def take_over(merged: Any, context: str, folder: Callable[[], Path]) -> Any:
    """Run the context's user's exec plugin (if it has one) before the kubernetes client reads
    the user, and put its answer in the plugin's place (a token, or a client certificate), so
    the client never runs the plugin itself. The token's refresh is ours from then on, and
    so is a `tokenFile`'s and an OIDC auth-provider's (kube/oidc.py). Returns the object
    that keeps the credential fresh (bearer/refresh/hook), or None. `folder` is the private
    folder a plugin's client certificate is written to."""
    ctx = merged["contexts"].get_with_name(context)["context"]
    if not ctx.safe_get("user"):
        return None
    entry = merged["users"].get_with_name(ctx["user"])
    user = entry["user"]
    provider = user.safe_get("auth-provider")
    provider = getattr(provider, "value", provider)  # a ConfigNode or a plain mapping
    if isinstance(provider, dict) and provider.get("name") == "oidc":
        from meshtui.kube.oidc import OidcToken

        tokens_oidc = OidcToken(dict(provider.get("config") or {}))
        rest = {k: v for k, v in user.value.items() if k != "auth-provider"}
        # the client sees a plain token (it would refresh once, at load, unverified); ours
        # from then on, expired ones refreshed first
        entry.value["user"] = {**rest, "token": tokens_oidc.bearer()}
        return tokens_oidc
    if user.safe_get("tokenFile") and not user.safe_get("token") and not user.safe_get("exec"):
        tokens = FileToken(str(user["tokenFile"]))  # absolute by now (config.py)
        tokens.bearer()  # a missing or empty file fails the load, in one line
        return tokens
    if not user.safe_get("exec"):
        return None
    cluster = merged["clusters"].get_with_name(ctx["cluster"])["cluster"]
    plugin = Plugin(user["exec"], cluster)
    status = plugin.run()
    rest = {k: v for k, v in user.value.items() if k != "exec"}
    token, stamp = status.get("token"), status.get("expirationTimestamp")
    if token:
        entry.value["user"] = {**rest, "token": str(token)}
        creds = ExecCredentials(plugin, str(token), parse_rfc3339(stamp) if stamp else None)
        return creds
    if status.get("clientCertificateData") and status.get("clientKeyData"):
        from meshtui.kube.exec_cert import ExecCertificate

        certs = ExecCertificate(plugin, folder(), status)  # files the client reads, renewed in place
        entry.value["user"] = {
            **rest,
            "client-certificate": str(certs.cert_file),
            "client-key": str(certs.key_file),
        }
        return certs
    raise ConfigException("exec: the plugin gave neither a token nor a client certificate")


def install(cfg: Any, creds: Any) -> None:
    """Put our refresh in place of the client's hook on `cfg`."""
    if creds is not None:
        cfg.refresh_api_key_hook = creds.hook
    elif cfg.refresh_api_key_hook is not None:
        cfg.refresh_api_key_hook = _preserving(cfg.refresh_api_key_hook)
