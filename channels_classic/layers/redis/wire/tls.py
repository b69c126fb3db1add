"""The TLS context of a connection, from redis-py's documented ``ssl_*`` options."""

from __future__ import annotations

import ssl
from typing import Any

CERT_REQUIREMENTS = {
    "none": ssl.CERT_NONE,
    "optional": ssl.CERT_OPTIONAL,
    "required": ssl.CERT_REQUIRED,
}


def tls_context(options: dict[str, Any]) -> ssl.SSLContext:
    """The TLS context redis-py's ``ssl_*`` options describe (their defaults too: the
    server's certificate is required and its host name checked)."""
    requirement = options.get("ssl_cert_reqs") or "required"
    if isinstance(requirement, str):
        if requirement not in CERT_REQUIREMENTS:
            raise ValueError(
                f"ssl_cert_reqs must be one of {', '.join(CERT_REQUIREMENTS)}, got {requirement!r}"
            )
        requirement = CERT_REQUIREMENTS[requirement]
    context = ssl.create_default_context()
    context.check_hostname = bool(options.get("ssl_check_hostname", True)) and (
        requirement != ssl.CERT_NONE
    )
    context.verify_mode = requirement
    for flag in options.get("ssl_include_verify_flags") or ():
        context.verify_flags |= flag
    for flag in options.get("ssl_exclude_verify_flags") or ():
        context.verify_flags &= ~flag
    certfile, keyfile = options.get("ssl_certfile"), options.get("ssl_keyfile")
    if keyfile and not certfile:
        raise ValueError("ssl_keyfile needs ssl_certfile (the certificate of that key): give both")
    if certfile:
        context.load_cert_chain(certfile, keyfile, options.get("ssl_password"))
    cafile, capath, cadata = (options.get(f"ssl_ca_{kind}") for kind in ("certs", "path", "data"))
    if cafile or capath or cadata:
        context.load_verify_locations(cafile, capath, cadata)
    if options.get("ssl_min_version") is not None:
        context.minimum_version = ssl.TLSVersion(options["ssl_min_version"])
    if options.get("ssl_ciphers"):
        context.set_ciphers(options["ssl_ciphers"])
    return context
