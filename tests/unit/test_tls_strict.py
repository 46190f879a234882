"""The demo's certificates pass strict X.509 verification, as Python 3.13's default
context (and Go's x509, urllib3 2's strict mode) applies it: without an authority key
identifier, keyUsage on the CA or a critical SAN for an empty subject, 3.13's kubectl
and kubernetes client get `SSLError` from the demo's API server."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from meshtui.demo.tls import ClusterCA, DemoMeshCA, peer_user


def _strict(ctx: ssl.SSLContext) -> ssl.SSLContext:
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return ctx


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext, name: str | None) -> ssl.SSLObject:
    """A full TLS handshake in memory (no sockets): the server's SSLObject once both
    ends are done; any verification failure raises SSLCertVerificationError."""
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    c = client.wrap_bio(c_in, c_out, server_hostname=name)
    s = server.wrap_bio(s_in, s_out, server_side=True)
    done = {"c": False, "s": False}
    for _ in range(20):
        for key, end in (("c", c), ("s", s)):
            if not done[key]:
                try:
                    end.do_handshake()
                    done[key] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return s
    raise AssertionError("handshake did not finish")


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_api_server_and_client_certificates_pass_strict_verification(tmp_path: Path, name: str):
    ca = ClusterCA(tmp_path)
    served = ca.serving_cert()
    user = ca.client_cert("jane", ("devs",))
    (tmp_path / "u.crt").write_bytes(user.cert_pem)
    (tmp_path / "u.key").write_bytes(user.key_pem)
    client = _strict(ssl.create_default_context(cafile=served.ca_file))
    client.load_cert_chain(tmp_path / "u.crt", tmp_path / "u.key")
    server = _strict(served.server_context())
    end = _handshake(server, client, name)
    assert peer_user(end.getpeercert()) == ("jane", ("devs",))


def test_a_certificate_without_its_issuers_key_id_is_refused(tmp_path: Path):
    """The check above can fail: a serving certificate from the same CA with no
    authority key identifier (what demo/tls.py issued before) is refused under strict
    verification, though the chain itself is sound."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(subject, key, issuer_key, *extensions):
        b = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )
        for ext, critical in extensions:
            b = b.add_extension(ext, critical=critical)
        return b.sign(issuer_key, hashes.SHA256())

    root = cert(
        ca_name,
        ca_key,
        ca_key,
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
        (x509.KeyUsage(True, False, False, False, False, True, True, False, False), True),
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = cert(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
        key,
        ca_key,
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.SubjectAlternativeName([x509.DNSName("localhost")]), False),
    )
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.crt").write_bytes(root.public_bytes(pem))
    (tmp_path / "bad.crt").write_bytes(leaf.public_bytes(pem))
    (tmp_path / "bad.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "bad.crt", tmp_path / "bad.key")
    lenient = ssl.create_default_context(cafile=tmp_path / "ca.crt")
    lenient.verify_flags &= ~ssl.VERIFY_X509_STRICT
    _handshake(server, lenient, "localhost")
    with pytest.raises(ssl.SSLCertVerificationError, match="Missing Authority Key Identifier"):
        _handshake(server, _strict(ssl.create_default_context(cafile=tmp_path / "ca.crt")), "localhost")


def test_workload_certificates_pass_strict_verification_both_ways(tmp_path: Path):
    """The mesh's SPIFFE certificates (empty subject, URI SAN) verify strictly as a
    server's and as a client's, as Envoy presents them in mTLS."""
    mesh = DemoMeshCA()
    files = {}
    for side in ("server", "client"):
        certs = mesh.issue(f"spiffe://cluster.local/ns/istioinaction/sa/{side}")
        (tmp_path / f"{side}.crt").write_text(certs.cert_pem)
        (tmp_path / f"{side}.key").write_text(certs.key_pem)
        (tmp_path / "root.crt").write_text(certs.root_pem)
        files[side] = (tmp_path / f"{side}.crt", tmp_path / f"{side}.key")
    server = _strict(ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=tmp_path / "root.crt"))
    server.load_cert_chain(*files["server"])
    server.verify_mode = ssl.CERT_REQUIRED
    client = _strict(ssl.create_default_context(cafile=tmp_path / "root.crt"))
    client.check_hostname = False  # SPIFFE identities are URIs, checked by Envoy's SAN matcher
    client.load_cert_chain(*files["client"])
    end = _handshake(server, client, None)
    uris = [v for k, v in end.getpeercert()["subjectAltName"] if k == "URI"]
    assert uris == ["spiffe://cluster.local/ns/istioinaction/sa/client"]
