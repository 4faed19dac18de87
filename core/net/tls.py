"""TLS for both protocols: the SSL contexts of DIMSE (pynetdicom) and the reading of an
OpenSSL failure as what the user must change.

The options are the ones DCMTK and pynetdicom users know by other names: ``--tls-ca`` the
certificates we trust (CA or the peer's own), ``--tls-cert``/``--tls-key`` our certificate
and its key, which a peer that requires mutual TLS (Orthanc's default) asks for.
"""

from __future__ import annotations

import re
import ssl
from pathlib import Path

from dicomreg.core.net.peers import NetError, NetOptions

__all__ = ["check_tls_files", "tls_context", "tls_failure"]

_OPENSSL = re.compile(r"\[SSL: (?P<code>[A-Z0-9_]+)\] (?P<text>[^(\n']+)")
_ADVICE = {
    "CERTIFICATE_VERIFY_FAILED": "the peer's certificate is not trusted ({text}): give the CA "
                                 "that signed it with --tls-ca",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "the peer requires our certificate: give --tls-cert "
                                         "and --tls-key",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "the peer refused the TLS handshake (it may require our "
                                     "certificate: --tls-cert and --tls-key)",
    "TLSV1_ALERT_UNKNOWN_CA": "the peer does not trust our certificate (--tls-cert): it "
                              "must know the CA that signed it",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the peer refused our certificate (--tls-cert)",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "the peer refused our certificate (--tls-cert)",
    "WRONG_VERSION_NUMBER": "the peer does not speak TLS on this port",
    "RECORD_LAYER_FAILURE": "the peer does not speak TLS on this port",
    "UNEXPECTED_EOF_WHILE_READING": "the peer closed the connection during the TLS handshake "
                                    "(does it speak TLS on this port?)",
}


def tls_failure(text: str) -> str | None:
    """What an OpenSSL error in ``text`` means for the user, or None when there is none."""
    match = _OPENSSL.search(text)
    if match is None:
        return None
    advice = _ADVICE.get(match["code"], "TLS failed: {text}")
    return advice.format(text=match["text"].strip())


def check_tls_files(options: NetOptions) -> None:
    """Raise :class:`NetError` for a key without its certificate or a file that is not
    there, naming the option."""
    if options.tls_key and not options.tls_cert:
        raise NetError("--tls-key needs --tls-cert (the certificate of that key)")
    for option, path in (("--tls-ca", options.tls_ca), ("--tls-cert", options.tls_cert),
                         ("--tls-key", options.tls_key)):
        if path and not Path(path).is_file():
            raise NetError(f"{option}: no such file {path}")


def _read_failure(option: str, path: str | None, error: OSError | ssl.SSLError) -> NetError:
    return NetError(f"{option} {path}: not a PEM certificate (and key) that OpenSSL can "
                    f"read ({getattr(error, 'reason', None) or error})")


def tls_context(options: NetOptions, server: bool = False) -> ssl.SSLContext:
    """The SSL context of a DIMSE association: as the requestor, the peer's certificate
    verified against ``--tls-ca`` (the system's CAs without it) and its host name checked;
    as our C-MOVE storage SCP, the peer's certificate required when ``--tls-ca`` is given.

    Raises
    ------
    NetError
        When a certificate or key cannot be read, naming the option and file.
    """
    check_tls_files(options)
    purpose = ssl.Purpose.CLIENT_AUTH if server else ssl.Purpose.SERVER_AUTH
    try:  # with --tls-ca, that file alone is trusted; without, the system's CAs
        context = ssl.create_default_context(purpose, cafile=options.tls_ca)
    except (OSError, ssl.SSLError) as error:
        raise _read_failure("--tls-ca", options.tls_ca, error) from None
    if options.tls_cert:
        try:
            context.load_cert_chain(options.tls_cert, options.tls_key)
        except (OSError, ssl.SSLError) as error:
            raise _read_failure("--tls-cert/--tls-key", options.tls_cert, error) from None
    if server:
        if not options.tls_cert:
            raise NetError("a storage SCP over TLS (C-MOVE) needs our certificate: give "
                           "--tls-cert and --tls-key")
        if options.tls_ca:
            context.verify_mode = ssl.CERT_REQUIRED
    return context
