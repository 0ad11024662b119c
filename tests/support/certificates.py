"""Throwaway TLS material for tests that talk OTLP over TLS to a local receiver.

Uses ``trustme`` (already in the project's ``test`` extra): a private CA plus a
leaf certificate for ``127.0.0.1``/``localhost`` signed by it.  A separate CA
rather than one self-signed leaf, because strict verifiers (BoringSSL inside grpc,
OpenSSL with ``VERIFY_X509_STRICT``) reject a leaf that is its own trust anchor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class CertificatePair:
    """Paths of PEM files: the server's certificate and key, and the CA that clients must trust.

    Plain ``str`` paths because that is what every consumer takes
    (``certificate_file=``, ``OTEL_EXPORTER_OTLP_*_CERTIFICATE``, ``ssl.load_cert_chain``).
    """

    cert_path: str
    key_path: str
    ca_path: str


def make_self_signed(tmp_dir: str | os.PathLike[str]) -> CertificatePair:
    """Write a fresh CA and a server certificate valid for 127.0.0.1 and localhost into ``tmp_dir``."""
    directory = Path(tmp_dir)
    directory.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    server = authority.issue_cert("127.0.0.1", "localhost")
    ca_path = directory / "ca.pem"
    cert_path = directory / "server.pem"
    key_path = directory / "server-key.pem"
    authority.cert_pem.write_to_path(str(ca_path))
    cert_path.write_bytes(b"".join(pem.bytes() for pem in server.cert_chain_pems))  # leaf first
    server.private_key_pem.write_to_path(str(key_path))
    return CertificatePair(cert_path=str(cert_path), key_path=str(key_path), ca_path=str(ca_path))
