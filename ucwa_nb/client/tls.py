"""What ``connect(verify=...)`` accepts, turned into what httpx wants.

On-premises front ends usually carry certificates from the company's internal CA, which the
certifi bundle httpx uses does not know. Passing the CA file's path is the everyday fix, but
httpx 0.28 deprecates ``verify=<path>``, so the path becomes an SSL context here. Turning
verification off is allowed (isolated labs) and warned about, because the password travels in
the token request and the token in every request after it.
"""

from __future__ import annotations

import functools
import os
import ssl
import warnings
from pathlib import Path

import httpx

Verify = bool | str | os.PathLike[str] | ssl.SSLContext


class InsecureTLSWarning(UserWarning):
    """Certificate verification was turned off with ``verify=False``."""


@functools.cache
def _default_context() -> ssl.SSLContext:
    # httpx builds a new context for each Client, loading the whole CA bundle (~0.1 s);
    # one shared context makes every connect() after the first that much faster.
    return httpx.create_ssl_context()


def ssl_verify(verify: Verify) -> ssl.SSLContext | bool:
    """``True`` (httpx's default CA bundle, in one shared context), an ``SSLContext`` (as
    given), a CA bundle file or a directory of CA certificates (made into a context that
    trusts them), or ``False`` (verification off, with an ``InsecureTLSWarning``)."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is True:
        return _default_context()
    if verify is False:
        warnings.warn(
            "TLS certificate verification is off (verify=False): anyone on the network path "
            "can read your password and token. Use it in an isolated lab only; pass your CA "
            "bundle as verify='corp-ca.pem' instead.", InsecureTLSWarning, stacklevel=3)
        return False
    path = Path(verify)
    if path.is_dir():
        return ssl.create_default_context(capath=str(path))
    if path.is_file():
        return ssl.create_default_context(cafile=str(path))
    raise FileNotFoundError(f"verify={str(verify)!r}: no CA bundle file or directory there")
