"""Throwaway certificates for the demo: the cluster's CA (as kind's), the mesh's CA.

Real API servers speak TLS, and kubectl will not send credentials over plain HTTP,
so the simulator serves HTTPS with a serving certificate from a cluster CA made at
start-up (the `cryptography` package comes with asyncssh). The demo's kubeconfig names
the CA (`certificate-authority`), so clients verify the server as they would a cluster,
and -- as kind's kubeconfig does -- a client certificate signed by the same CA
(`client-certificate` / `client-key`: files in the demo's folder rather than -data, which
the kubernetes client would copy to temporary files a killed demo leaves behind). The
API server's x509 authenticator (apiserver pkg/authentication/request/x509/x509.go
CommonNameUserConversion) takes the user from the subject's CN and the groups from O.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PEM = serialization.Encoding.PEM
# kind's (kubeadm's) admin user: CN kubernetes-admin, O kubeadm:cluster-admins (1.29+)
ADMIN_USER, ADMIN_GROUPS = "kubernetes-admin", ("kubeadm:cluster-admins",)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    # EC keys sign, they do not encipher: digitalSignature for a leaf, keyCertSign (and
    # cRLSign) for a CA, as Go's x509 and OpenSSL's CA profiles set them
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _self_signed_ca(
    name: x509.Name, key: ec.EllipticCurvePrivateKey, lifetime: datetime.timedelta
) -> x509.Certificate:
    """A root with the extensions strict verifiers require (Python 3.13's default context
    sets VERIFY_X509_STRICT): critical basicConstraints, keyUsage, a subject key id, and
    an authority key id as Go's x509 adds to every certificate it signs."""
    now = datetime.datetime.now(datetime.timezone.utc)
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + lifetime)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _leaf(
    issuer: x509.Certificate,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    lifetime: datetime.timedelta,
) -> x509.CertificateBuilder:
    """An end-entity certificate issued by `issuer`, unsigned: the caller adds its SANs
    and extended key usage. Strict verification fails a certificate that does not name
    its issuer's key (missing authority key identifier)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + lifetime)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False
        )
    )


def _write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600)
    path.write_bytes(data)


@dataclass(frozen=True)
class ServerCert:
    ca_pem: bytes  # what a kubeconfig's certificate-authority-data carries
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        """Serve with this certificate; ask for a client certificate and verify one if
        given (Go's tls.VerifyClientCertIfGiven, as the API server sets it)."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        ctx.load_verify_locations(cafile=self.ca_file)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx


@dataclass(frozen=True)
class ClientCert:
    cert_pem: bytes
    key_pem: bytes


class ClusterCA:
    """The cluster's `kubernetes` CA: signs the API server's serving certificate and
    the users' client certificates."""

    def __init__(self, directory: Path, name: str = "kubernetes") -> None:
        self.directory = directory
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self._cert = _self_signed_ca(self._name, self._key, datetime.timedelta(days=2))
        self.ca_pem = self._cert.public_bytes(PEM)
        self.ca_file = directory / f"{name}-ca.crt"
        self.ca_file.write_bytes(self.ca_pem)

    def _issue(
        self,
        subject: x509.Name,
        key: ec.EllipticCurvePrivateKey,
        usage: x509.ObjectIdentifier,
        lifetime: datetime.timedelta = datetime.timedelta(days=1),
    ) -> x509.CertificateBuilder:
        return _leaf(self._cert, subject, key, lifetime).add_extension(
            x509.ExtendedKeyUsage([usage]), critical=False
        )

    def serving_cert(
        self, names: Sequence[str] = ("127.0.0.1", "localhost"), stem: str = "apiserver"
    ) -> ServerCert:
        """A serving certificate for `names` (IP addresses or DNS names): a name other
        than the address clients dial is what a kubeconfig's tls-server-name is for."""
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
        cert = (
            self._issue(subject, key, ExtendedKeyUsageOID.SERVER_AUTH)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        cert_file, key_file = self.directory / f"{stem}.crt", self.directory / f"{stem}.key"
        cert_file.write_bytes(cert.public_bytes(PEM))
        _write_private(key_file, _key_pem(key))
        return ServerCert(self.ca_pem, self.ca_file, cert_file, key_file)

    def client_cert(
        self,
        user: str = ADMIN_USER,
        groups: Sequence[str] = ADMIN_GROUPS,
        lifetime: datetime.timedelta = datetime.timedelta(days=1),
    ) -> ClientCert:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
            + [x509.NameAttribute(NameOID.COMMON_NAME, user)]
        )
        cert = self._issue(subject, key, ExtendedKeyUsageOID.CLIENT_AUTH, lifetime).sign(
            self._key, hashes.SHA256()
        )
        return ClientCert(cert.public_bytes(PEM), _key_pem(key))


def peer_user(peercert: dict[str, Any] | None) -> tuple[str, tuple[str, ...]] | None:
    """(user, groups) from a verified client certificate as ssl's getpeercert() gives it."""
    if not peercert:
        return None
    user, groups = "", []
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                user = value
            elif key == "organizationName":
                groups.append(value)
    return (user, tuple(groups)) if user else None


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
        self._root = _self_signed_ca(self._name, self._key, datetime.timedelta(days=3650))

    @property
    def root_expiry(self) -> float:
        """Unix seconds when the root certificate expires."""
        return self._root.not_valid_after_utc.timestamp()

    def issue(self, spiffe_id: str, hours: int = 24) -> WorkloadCerts:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            # istiod's workload certificates have an empty subject, so the SAN is critical
            # (RFC 5280 4.2.1.6), and serve both ends of mTLS
            _leaf(self._root, x509.Name([]), key, datetime.timedelta(hours=hours))
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(spiffe_id)]), critical=True
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        return WorkloadCerts(
            cert.public_bytes(pem).decode(),
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
            self._root.public_bytes(pem).decode(),
        )
