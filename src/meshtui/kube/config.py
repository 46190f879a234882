"""Load a kubeconfig the way kubectl does and describe API errors in one human line."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.config import kube_config
from kubernetes.config.config_exception import ConfigException

from meshtui.cleanup import FolderGuard, guarded_folder
from meshtui.kube import credentials, impersonation, proxy


class KubeError(Exception):
    """A Kubernetes problem with a one-line reason fit for a status line or stderr."""


@dataclass(frozen=True)
class KubeTarget:
    context: str
    server: str
    configuration: client.Configuration
    via: str = ""  # "ssh HOST" when the API server is reached through an SSH connection
    origin: str = ""  # then: the server the kubeconfig names (`server` is meshtui's local relay)
    credentials: Any = None  # kube/credentials.py ExecCredentials for an exec plugin user
    # the user's `as`, `as-groups`, `as-uid`, `as-user-extra` as Impersonate-* headers,
    # sent on every request (kube/impersonation.py)
    impersonate: tuple[tuple[str, str], ...] = ()

    @property
    def shown(self) -> str:
        """The API server as the user knows it, for messages: never the local relay's port."""
        if self.origin:
            return f"{self.origin} (through {self.via})" if self.via else self.origin
        return self.server

    def api_client(self) -> client.ApiClient:
        """A kubernetes client whose every request goes through _before_request and
        carries the Impersonate-* headers (its REST layer, the one place both fit)."""
        api = client.ApiClient(self.configuration)
        track = getattr(self.credentials, "track", None)
        if track is None and not self.impersonate:
            return api
        if track is not None:
            track(api)  # an exec plugin's certificate: its pool goes when it is renewed
        rest = api.rest_client
        request = rest.request

        def sent(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            self._before_request()
            if self.impersonate:
                kwargs["headers"] = impersonation.with_headers(kwargs.get("headers"), self.impersonate)
            return request(method, url, *args, **kwargs)

        rest.request = sent  # type: ignore[method-assign]
        return api

    def _before_request(self) -> None:
        """Renew an exec plugin's client certificate that is due (the client's own refresh
        hook runs only for bearer tokens)."""
        if hasattr(self.credentials, "track"):
            self.credentials.hook(self.configuration)

    def headers(self) -> list[tuple[str, str]]:
        """The headers a request made outside the kubernetes client carries besides its
        credentials (the port-forward's websocket). Blocking like auth_header()."""
        self._before_request()
        auth = self.auth_header()
        return [*([("Authorization", auth)] if auth else []), *self.impersonate]

    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api_client())

    def auth_header(self) -> str | None:
        """The Authorization header; may run an exec plugin, so blocking: call it from a thread."""
        # auth_settings() runs the refresh hook first (exec plugins, expiring tokens)
        settings: Any = self.configuration.auth_settings()
        for setting in settings.values():
            if setting.get("in") == "header" and setting.get("key", "").lower() == "authorization":
                return str(setting["value"]) or None
        return None

    def proxy_url(self) -> str | None:
        """The proxy every connection to the API server goes through (kube/proxy.py)."""
        return getattr(self.configuration, "proxy", None) or None

    def auth_may_block(self) -> bool:
        """Whether getting the header can run something (an exec plugin, a token refresh)."""
        return self.credentials is not None or self.configuration.refresh_api_key_hook is not None

    def refresh_credentials(self, rejected: str | None) -> bool:
        """After a 401: get a new credential if the user has a way to (an exec plugin).
        Blocking (the plugin runs here): call it from a thread."""
        if self.credentials is None:
            return False
        self.credentials.refresh(rejected)
        return True

    def tls_server_name(self) -> str | None:
        """The name to verify the server certificate for, when not the URL's host (tunnels)."""
        return getattr(self.configuration, "tls_server_name", None) or None

    def ssl_context(self) -> ssl.SSLContext | None:
        cfg = self.configuration
        if not cfg.host.startswith("https"):
            return None
        ctx = ssl.create_default_context(cafile=cfg.ssl_ca_cert or None)
        if cfg.cert_file:
            ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
        if not cfg.verify_ssl:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


def kubeconfig_paths(explicit: str | None) -> list[str]:
    """The files kubectl would read: `--kubeconfig` alone, else every existing file the
    KUBECONFIG list names (missing ones skipped, as kubectl skips them), else ~/.kube/config."""
    if explicit:
        return [explicit]
    env = os.environ.get("KUBECONFIG")
    if env:
        listed = [os.path.expanduser(p) for p in env.split(os.pathsep) if p]
        return [p for p in listed if Path(p).exists()] or listed[:1]
    return [str(Path.home() / ".kube" / "config")]


def _is_empty(path: str) -> bool:
    """A file with no YAML document (empty, or comments only): client-go's Load returns an
    empty Config for it (clientcmd/loader.go `Load`, "if there's no data in a file, return
    the default object"); the kubernetes client raises "file is empty" instead."""
    import yaml

    try:
        with open(path, "rb") as f:
            return yaml.safe_load(f) is None
    except (OSError, yaml.YAMLError):
        return False  # unreadable or broken: the merger says so in its own words


_YAML_TYPES = {"str": "text", "list": "a list", "int": "a number", "float": "a number", "bool": "true/false"}


def _check_shape(path: str) -> None:
    """A kubeconfig is a YAML mapping whose clusters, contexts and users are lists: say
    which part is not, rather than the Python error the merger stumbles on (`'str' object
    does not support item assignment` for /etc/passwd)."""
    import yaml

    try:
        with open(path, "rb") as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError):
        return  # unreadable or not YAML: the merger says so in its own words
    expected = "a YAML mapping with clusters, contexts and users"
    if not isinstance(doc, dict):
        found = _YAML_TYPES.get(type(doc).__name__, type(doc).__name__)
        raise KubeError(f"kubeconfig {path} is not a kubeconfig: {expected} was expected, it holds {found}")
    for key in ("clusters", "contexts", "users"):
        value = doc.get(key)
        if value is not None and not isinstance(value, list):
            found = _YAML_TYPES.get(type(value).__name__, "a mapping")
            raise KubeError(f"kubeconfig {path} is not a kubeconfig: its {key} are {found}, not a list")


def _merged(paths: list[str]) -> Any:
    """The kubeconfig files merged as kubectl merges them (client-go clientcmd loader.go:
    the first file to set a cluster, user or context name wins, and so does the first file
    with a current-context). The kubernetes client's KubeConfigMerger keeps the first of
    each name but lets a later file's current-context win, so that one is set here."""
    present = [p for p in paths if Path(p).exists()]
    paths = [p for p in present if not _is_empty(p)]
    for p in paths:
        _check_shape(p)
    if present and not paths:
        raise KubeError(f"kubeconfig {os.pathsep.join(present)} is empty: no cluster, user or context in it")
    merger = kube_config.KubeConfigMerger(os.pathsep.join(paths))
    if merger.config is None:
        raise ConfigException("no configuration found")
    current = next(
        (
            doc.get("current-context")
            for doc in (merger.config_files[p] for p in merger.paths)
            if isinstance(doc, dict) and doc.get("current-context")
        ),
        "",
    )
    merger.config.value["current-context"] = current
    _resolve_paths(merger.config)
    return merger.config


# the file paths client-go resolves against the file that names them (clientcmd loader.go
# GetClusterFileReferences / GetAuthInfoFileReferences); an exec command only when it is
# a path ("./bin/login", not "aws", which is looked up on PATH)
_FILE_KEYS = {
    "clusters": ("cluster", ("certificate-authority",)),
    "users": ("user", ("client-certificate", "client-key", "tokenFile")),
}


def _resolve_paths(merged: Any) -> None:
    """Make every relative path absolute against the directory of the file that sets it
    (client-go ResolveLocalPaths). The kubernetes client resolves a user's certificate
    against its cluster's file instead: wrong when KUBECONFIG keeps the two apart."""
    for section, (key, names) in _FILE_KEYS.items():
        for node in merged.value.get(section) or []:
            body = node.value.get(key) if isinstance(node.value, dict) else None
            origin = getattr(node, "path", None)
            if not isinstance(body, dict) or not origin:
                continue
            base = os.path.abspath(os.path.dirname(origin))
            for name in names:
                if isinstance(body.get(name), str) and body[name]:
                    body[name] = os.path.join(base, os.path.expanduser(body[name]))
            plugin = body.get("exec")
            if isinstance(plugin, dict) and os.sep in str(plugin.get("command") or ""):
                plugin["command"] = os.path.join(base, os.path.expanduser(plugin["command"]))


_INLINE_FILES: Path | None = None
_INLINE_GUARD: FolderGuard | None = None  # held for the process's life: its pipe is the signal


def _inline_files_folder() -> Path:
    """Where the kubernetes client writes `certificate-authority-data`, `client-key-data`
    and the like as files (Python's TLS reads keys only from files). It removes them only
    at a clean exit; a killed meshtui would leave a private key in /tmp. This folder goes
    with the process however it ends (meshtui/cleanup.py), one per process."""
    global _INLINE_FILES, _INLINE_GUARD
    if _INLINE_FILES is None or not _INLINE_FILES.is_dir():
        _INLINE_FILES, _INLINE_GUARD = guarded_folder("meshtui-kube-")
    return _INLINE_FILES


def _has_inline_files(doc: Any) -> bool:
    """Whether any cluster or user carries a `*-data` the client will write out as a file."""
    for section, key in (("clusters", "cluster"), ("users", "user")):
        for node in doc.get(section) or []:
            entry = getattr(node, "value", node)  # the merger wraps each file's entries
            body = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(body, dict) and any(str(k).endswith("-data") for k in body):
                return True
    return False


def load(kubeconfig: str | None = None, context: str | None = None) -> KubeTarget:
    """Read the kubeconfig (`--kubeconfig`, then KUBECONFIG merged, then ~/.kube/config)."""
    paths = kubeconfig_paths(kubeconfig)
    path = os.pathsep.join(paths)
    if not any(Path(p).exists() for p in paths):
        raise KubeError(f"no kubeconfig at {path} (use --kubeconfig or KUBECONFIG, or --admin URL)")
    cfg = client.Configuration()
    try:
        merged = _merged(paths)
        if context and context not in {c["name"] for c in merged.value.get("contexts") or []}:
            raise KubeError(f"context {context!r} is not in {path}")
        name = context or str(merged.value.get("current-context") or "")
        # exec plugins, token files and OIDC tokens kept fresh our way (kube/credentials.py)
        creds = credentials.take_over(merged, name, _inline_files_folder) if name else None
        loader = kube_config.KubeConfigLoader(
            config_dict=merged,
            active_context=context,
            config_base_path=None,
            temp_file_path=str(_inline_files_folder()) if _has_inline_files(merged.value) else None,
        )
        loader.load_and_set(cfg)
        proxy.settle(cfg, proxy.cluster_proxy_url(merged, context))
        credentials.install(cfg, creds)
    except KubeError:
        raise
    except proxy.ProxyError as exc:
        raise KubeError(f"kubeconfig {path}: {exc}") from exc
    except ConfigException as exc:
        raise KubeError(f"kubeconfig {path}: {first_line(str(exc))}") from exc
    except (OSError, ValueError) as exc:
        raise KubeError(f"kubeconfig {path} unreadable: {first_line(str(exc))}") from exc
    except Exception as exc:  # YAML errors, or a list/string where the client expects a mapping
        kind = "not valid YAML" if "yaml" in type(exc).__module__ else "not a kubeconfig"
        raise KubeError(f"kubeconfig {path} is {kind}: {first_line(str(exc))}") from exc
    cfg.retries = False
    acting = impersonation.headers_for(merged, name) if name else ()
    return KubeTarget(context=name, server=cfg.host, configuration=cfg, credentials=creds, impersonate=acting)


def first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:200]


def _unreachable_because(reason: str, server: str) -> str:
    # through SSH, meshtui's relay closes a connection at once while SSH reconnects: the
    # client then says SSLError or refused, where the cause is the SSH connection
    if "(through ssh " in server and any(w in reason for w in ("SSLError", "refused", "EOF", "reset")):
        return "the SSH connection to it is down (see the status line)"
    return first_line(reason)


def describe(exc: BaseException, server: str = "") -> str:
    """One line a user can act on, for any error the kubernetes client raises."""
    where = f" at {server}" if server else ""
    if isinstance(exc, KubeError):
        return str(exc)
    if isinstance(exc, ApiException):
        message = _status_message(exc)
        if exc.status == 401:
            return (
                f"API server{where} rejected the credentials (401): "
                "expired or revoked? refresh your kubeconfig"
            )
        if exc.status == 403:
            return f"RBAC denied (403): {message}"
        if exc.status == 404:
            return f"not found (404): {message}"
        if exc.status == 0 or exc.status is None:
            return f"API server{where} unreachable: {_unreachable_because(str(exc.reason), server)}"
        return f"API server{where} answered {exc.status} {exc.reason}: {message}"
    name = type(exc).__name__
    text = str(exc)
    if "Connection refused" in text or name in ("MaxRetryError", "NewConnectionError"):
        return f"API server{where} unreachable: {_unreachable_because('connection refused', server)}"
    if "timed out" in text.lower() or "Timeout" in name:
        return f"API server{where} did not answer in time"
    return f"Kubernetes error{where}: {first_line(text) or name}"


def _status_message(exc: ApiException) -> str:
    import json

    body: Any = exc.body
    try:
        doc = json.loads(body) if body else {}
        return str(doc.get("message") or exc.reason)
    except (ValueError, TypeError, AttributeError):
        return first_line(str(body or exc.reason))
