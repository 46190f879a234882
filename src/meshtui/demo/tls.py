"""A throwaway self-signed certificate for the demo API server on 127.0.0.1.

Real API servers speak TLS, and kubectl will not send a bearer token over plain
HTTP, so the simulator serves HTTPS with a certificate made at start-up (the
`cryptography` package comes with asyncssh). The kubeconfig carries it as
`certificate-authority` (its file path), so clients verify the server as they would a cluster.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class ServerCert:
    cert_pem: bytes
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def make_server_cert(directory: Path) -> ServerCert:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "meshtui-demo-apiserver")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file, key_file = directory / "apiserver.crt", directory / "apiserver.key"
    cert_file.write_bytes(cert_pem)
    key_file.touch(mode=0o600)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ServerCert(cert_pem, cert_file, key_file)


@dataclass(frozen=True)
class WorkloadCerts:
    """What istio-agent hands its Envoy over SDS: `default` (the workload's SPIFFE
    certificate and key) and `ROOTCA` (the mesh root)."""

    cert_pem: str
    key_pem: str
    root_pem: str

    def envoy_secrets(self) -> list[dict[str, object]]:
        return [
            {
                "name": "default",
                "tls_certificate": {
                    "certificate_chain": {"inline_string": self.cert_pem},
                    "private_key": {"inline_string": self.key_pem},
                },
            },
            {"name": "ROOTCA", "validation_context": {"trusted_ca": {"inline_string": self.root_pem}}},
        ]


class DemoMeshCA:
    """A throwaway mesh root that signs workload certificates, as istiod's CA does."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cluster.local")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self._root = (
            x509.CertificateBuilder()
            .subject_name(self._name)
            .issuer_name(self._name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )

    @property
    def root_expiry(self) -> float:
        """Unix seconds when the root certificate expires."""
        return self._root.not_valid_after_utc.timestamp()

    def issue(self, spiffe_id: str, hours: int = 24) -> WorkloadCerts:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self._name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=hours))
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(spiffe_id)]), critical=True
            )
            .sign(self._key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        return WorkloadCerts(
            cert.public_bytes(pem).decode(),
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
            self._root.public_bytes(pem).decode(),
        )
