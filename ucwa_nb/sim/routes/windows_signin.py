"""The HTTP side of Windows sign-in at the token endpoint: the ``Negotiate``/``NTLM``
handshake in ``Authorization`` and ``WWW-Authenticate`` headers (RFC 4559), before the
Windows grant is answered.

IIS runs Windows authentication before the application: a request that carries a handshake
token is answered 401 (the next token, or a fresh challenge) until the handshake completes,
whatever its body, as curl's ``--ntlm`` relies on when it sends an empty body in the first
rounds. The grant itself is then read from the request that completed the handshake
(Authentication in UCWA: "the grant is posted over the authenticated connection",
https://learn.microsoft.com/en-us/skype-sdk/ucwa/authenticationinucwa). The acceptor is
``rules/windows.py``.
"""

from __future__ import annotations

import base64
import binascii
import logging

from starlette.requests import Request
from starlette.responses import Response

from ucwa_nb.sim.rules.windows import Connection
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenario import UserSpec

__all__ = ["MAX_TOKEN_CHARS", "Handshake", "connection_of", "continues_handshake", "handshake",
           "starts_handshake", "windows_account", "windows_challenge"]

log = logging.getLogger("ucwa_nb.sim.signin")

# [infer] http.sys refuses a header field past 16 KiB (MaxFieldLength's default) with 400;
# h11 in front of us refuses larger header blocks before they reach the route at all.
MAX_TOKEN_CHARS = 16 * 1024
_PAGE = (b"<html><head><title>401 - Unauthorized</title></head><body>"
         b"<h1>401 - Unauthorized: Access is denied due to invalid credentials.</h1>"
         b"</body></html>")


def connection_of(request: Request) -> Connection:
    """One TCP connection: the client's address and port (ASGI's ``client``)."""
    client = request.client
    return (client.host, client.port) if client else ("", 0)


def windows_challenge(schemes: tuple[str, ...], token: tuple[str, bytes] | None = None
                      ) -> Response:
    """401 with a fresh challenge (every scheme offered), or with the handshake's next token."""
    response = Response(_PAGE, 401, media_type="text/html")
    if token is not None:
        response.headers.append("WWW-Authenticate",
                                f"{token[0]} {base64.b64encode(token[1]).decode()}")
    else:
        for scheme in schemes:
            response.headers.append("WWW-Authenticate", scheme)
    return response


class Handshake:
    """The outcome of a request's ``Authorization`` header at the token endpoint:
    ``answer`` (a 401 or 400 to send as it is), or ``user`` (authenticated, with ``final``:
    the acceptor's last token, for a ``WWW-Authenticate`` on the 200), or neither (no
    handshake in this request)."""

    def __init__(self, answer: Response | None = None, user: UserSpec | None = None,
                 final: tuple[str, bytes] | None = None) -> None:
        self.answer = answer
        self.user = user
        self.final = final


def _authorization(request: Request) -> tuple[str, str] | None:
    """(scheme, token text) of a Negotiate or NTLM Authorization header, whichever the
    server offers or not; None for none (or another scheme, a bearer token)."""
    value = request.headers.get("authorization", "")
    scheme, _, token = value.strip().partition(" ")
    for known in ("Negotiate", "NTLM"):
        if scheme.lower() == known.lower() and token.strip():
            return known, token.strip()
    return None


def handshake(request: Request, world: World, oauth_error: Response) -> Handshake:
    """Step the handshake this request carries, if any (``oauth_error``: the 400 for a
    token too large to be one)."""
    acceptor = world.windows
    if not acceptor.schemes:
        return Handshake()  # Windows authentication is off: the header means nothing here
    found = _authorization(request)
    if found is None:
        return Handshake()
    scheme, text = found
    connection = connection_of(request)
    if len(text) > MAX_TOKEN_CHARS:
        log.info("Windows sign-in from %s: a %s token of %d characters refused", connection[0],
                 scheme, len(text))
        return Handshake(oauth_error)
    try:
        token = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        token = b""
    step = acceptor.step(connection, scheme, token) if token else None
    if step is None or step.kind == "refused":
        why = step.why if step is not None else "not base64"
        log.info("Windows sign-in from %s refused (%s): %s", connection[0], scheme, why)
        world.signin.failed(connection[0], windows_account(connection[0]))
        return Handshake(windows_challenge(acceptor.schemes))
    if step.kind == "continue":
        return Handshake(windows_challenge(acceptor.schemes, (scheme, step.token or b"")))
    return Handshake(user=step.user, final=(scheme, step.token) if step.token else None)


def windows_account(address: str) -> str:
    """What the sign-in limits count a client's failed Windows sign-ins against: its address
    (a refused handshake names no account it could be charged to)."""
    return f"(windows){address}"


def continues_handshake(request: Request, world: World) -> bool:
    """Whether this request goes on with a handshake in progress on its connection (the
    sign-in rate limit counts a handshake once, at its start)."""
    return _authorization(request) is not None and \
        world.windows.pending(connection_of(request))


def starts_handshake(request: Request) -> bool:
    """Whether this request carries a Negotiate or NTLM token (a handshake's first message,
    unless ``continues_handshake``): counted as an attempt of its address's Windows
    account."""
    return _authorization(request) is not None
