"""The secrets of a `/config_dump` as `istioctl proxy-config secret` lists them: one row per
secret (a SPIFFE validator's trust bundles one row per trust domain) with its type, state,
validity, serial number, dates and trust domain.

The rules follow istioctl (istio/istio at 86c9f01f, istioctl/pkg/writer/compare/sds/util.go
GetEnvoySecrets, secretMetaFromCert, parseTrustBundles): the first PEM block is the one
described; warming secrets first, then active ones. Static secrets, which istioctl skips, are
meshtui's extra rows. Private keys are never read here (Envoy redacts them; config_dump.py
removes them again).
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator
from typing import Any

Row = dict[str, Any]
SPIFFE_VALIDATOR = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig"


def _pem_of(data_source: dict[str, Any] | None) -> bytes:
    data_source = data_source or {}
    if data_source.get("inline_bytes"):
        try:
            return base64.b64decode(data_source["inline_bytes"])
        except (ValueError, TypeError):
            return b"not base64"
    if data_source.get("inline_string"):  # istioctl reads inline_bytes only; Envoy accepts both
        return str(data_source["inline_string"]).encode()
    return b""


def cert_meta(pem: bytes, trust_domain: str, now: datetime.datetime) -> dict[str, Any]:
    """secretMetaFromCert on the first certificate of a PEM; {} when it is not one."""
    from cryptography import x509  # ~40 ms to import: only when secrets are shown

    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return {}
    try:
        is_ca = bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    spiffe = next((u for u in uris if u.startswith("spiffe://")), "")
    if not trust_domain and spiffe:  # a CA's trust domain comes from its validator, not its URI
        trust_domain = spiffe.removeprefix("spiffe://").split("/", 1)[0]
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    return {
        "type": "CA" if is_ca else "Cert Chain",
        "valid": not_before < now < not_after,
        "serial": format(cert.serial_number, "032x"),  # Go's %032x: leading zeros kept
        "not_after": _rfc3339(not_after),
        "not_before": _rfc3339(not_before),
        "trust_domain": trust_domain,
        "spiffe_id": spiffe,
        "issuer": cert.issuer.rfc4514_string(),
        "expires_in": _left(not_after - now),
    }


def _rfc3339(t: datetime.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")  # Go's time.RFC3339 of a UTC time


def _left(delta: datetime.timedelta) -> str:
    """Istio workload certificates live 24 h: days alone would always say 0."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "EXPIRED"
    if seconds >= 2 * 86400:
        return f"{seconds // 86400}d"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _items(entry: dict[str, Any], state: str, now: datetime.datetime) -> Iterator[Row]:
    """parseDynamicSecret: the certificate chain, else the trusted CA, else the SPIFFE
    validator's bundles (one row per trust domain)."""
    secret = entry.get("secret") or {}
    name = entry.get("name") or secret.get("name", "")
    base = {"name": name, "status": state, "version": entry.get("version_info", ""), "_raw": secret}
    chain = _pem_of((secret.get("tls_certificate") or {}).get("certificate_chain"))
    validation = secret.get("validation_context") or {}
    ca = _pem_of(validation.get("trusted_ca"))
    if chain or ca:
        yield {**base, **_described(chain or ca, "", now)}
        return
    validator = validation.get("custom_validator_config") or {}
    typed = validator.get("typed_config") or {}
    if typed.get("@type") == SPIFFE_VALIDATOR:
        for td in typed.get("trust_domains", []):
            bundle = _pem_of(td.get("trust_bundle"))
            yield {**base, **_described(bundle, str(td.get("name", "")), now)}
        return
    yield {**base, **_described(b"", "", now)}


def _described(pem: bytes, trust_domain: str, now: datetime.datetime) -> Row:
    meta = cert_meta(pem, trust_domain, now) if pem else {}
    empty = {
        "type": "",
        "valid": False,
        "serial": "",
        "not_after": "",
        "not_before": "",
        "trust_domain": trust_domain,
    }
    return {**empty, "spiffe_id": "", "issuer": "", "expires_in": "", **meta}


def secret_rows(raw: dict[str, Any], now: datetime.datetime | None = None) -> Iterator[Row]:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    for entry in raw.get("dynamic_warming_secrets", []):
        yield from _items(entry, "WARMING", now)
    for entry in raw.get("dynamic_active_secrets", []):
        # istioctl means to say UNINITIALIZED for version "uninitialized" but sets it on a copy
        # (a Go range variable), so it prints ACTIVE; meshtui says what it meant
        state = "UNINITIALIZED" if entry.get("version_info") == "uninitialized" else "ACTIVE"
        yield from _items(entry, state, now)
    for entry in raw.get("static_secrets", []):
        yield from _items(entry, "STATIC", now)


def shows_trust_domain(rows: list[Row]) -> bool:
    """printSecretItemsTabular prints TRUST DOMAIN only when every secret has one (federation)."""
    return bool(rows) and all(r.get("trust_domain") for r in rows)
