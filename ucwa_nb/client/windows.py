"""Windows-integrated sign-in: the token endpoint's Negotiate/NTLM handshake, on pyspnego.

The Windows grant (``grant_type=urn:microsoft.rtc:windows``, no username or password in the
form) is posted to the token URL of the MsRtcOAuth challenge, which first demands an HTTP
``Negotiate`` or ``NTLM`` handshake (RFC 4559) and answers the grant on the connection it
authenticated (Authentication in UCWA,
https://learn.microsoft.com/en-us/skype-sdk/ucwa/authenticationinucwa).

pyspnego is the initiator: NTLM with an explicit ``DOMAIN\\user`` (or ``user@domain``) and
password on any OS, Kerberos where python-gssapi and a ticket exist, and the signed-in
Windows user through SSPI when no password is given.

NTLM authenticates a connection, not a request. httpx sends an auth flow's requests through
the client's connection pool, which may hand each request another idle connection to the
same origin (or a new one): so the handshake goes over a client of its own whose transport
holds exactly one connection (``max_connections=1``), made for the token URL only and closed
after it. Its requests pass the session's logging hooks like every other.
"""

from __future__ import annotations

import base64
import binascii
import logging
import ssl
from collections.abc import Generator

import httpx

from ucwa_nb.client.errors import Redact, SignInError
from ucwa_nb.client.hooks import ExchangeHooks, tag
from ucwa_nb.client.transport import BoundedRead

__all__ = ["WINDOWS_GRANT", "NegotiateAuth", "windows_token_response"]

WINDOWS_GRANT = "urn:microsoft.rtc:windows"
_SCHEMES = ("Negotiate", "NTLM")  # preferred first: Negotiate may be Kerberos
# A handshake is two rounds (NTLM, or Kerberos with mutual authentication); more is a server
# leading the client on.
MAX_ROUNDS = 4
# Kerberos tokens with a large PAC reach some tens of kilobytes (Windows' MaxTokenSize is
# 48,000 bytes); anything larger is not a handshake token.
MAX_TOKEN_BYTES = 64 * 1024


class _NoTokensInLogs(logging.Filter):
    """pyspnego logs every NTLM message at DEBUG (they carry password hashes): drop them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        return not (isinstance(message, str) and ("step input" in message
                                                  or "step output" in message))


for _name in ("spnego._ntlm", "spnego._negotiate", "spnego._context"):
    logging.getLogger(_name).addFilter(_NoTokensInLogs())


def offered_schemes(response: httpx.Response) -> list[str]:
    """The Negotiate/NTLM schemes a 401 offers (a bare ``WWW-Authenticate: NTLM``)."""
    found = []
    for value in response.headers.get_list("www-authenticate"):
        for item in value.split(","):
            scheme = item.strip().split(" ")[0]
            for known in _SCHEMES:
                if scheme.lower() == known.lower() and known not in found:
                    found.append(known)
    return found


def _incoming(response: httpx.Response, scheme: str) -> bytes | None:
    """The server's token in ``WWW-Authenticate: <scheme> <base64>``, None when none."""
    for value in response.headers.get_list("www-authenticate"):
        name, _, token = value.strip().partition(" ")
        if name.lower() == scheme.lower() and token.strip():
            if len(token) > MAX_TOKEN_BYTES * 4 // 3 + 4:
                return None
            try:
                return base64.b64decode(token.strip(), validate=True)
            except (binascii.Error, ValueError):
                return None
    return None


class NegotiateAuth(httpx.Auth):
    """The HTTP Negotiate/NTLM handshake as an ``httpx.Auth`` flow: the request goes out
    bare; on a 401 offering Negotiate (preferred) or NTLM it is sent again with each of the
    initiator's tokens, until the server answers something other than a 401 with a token.
    ``scheme`` says which was used, ``refused`` why the flow stopped short, if it did."""

    requires_response_body = True

    def __init__(self, username: str | None, password: str | None) -> None:
        self._username = username
        self._password = password
        self.scheme: str | None = None
        self.refused: str | None = None

    def __repr__(self) -> str:  # the password stays out of reprs and tracebacks
        return f"<NegotiateAuth {self._username or '(the signed-in Windows user)'}>"

    def auth_flow(self, request: httpx.Request
                  ) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield request
        if response.status_code != 401:
            return
        schemes = offered_schemes(response)
        if not schemes:
            self.refused = "the token endpoint offers no Negotiate or NTLM handshake"
            return
        self.scheme = scheme = schemes[0]
        import spnego  # here: ~60 ms of imports that only Windows sign-in needs

        context = spnego.client(self._username, self._password, hostname=request.url.host,
                                service="HTTP", protocol=scheme.lower())
        out = context.step()
        for _ in range(MAX_ROUNDS):
            request.headers["Authorization"] = \
                f"{scheme} {base64.b64encode(out or b'').decode()}"
            response = yield request
            incoming = _incoming(response, scheme)
            if response.status_code != 401:
                return
            if incoming is None or context.complete:
                self.refused = ("the server refused the handshake with a fresh challenge: a "
                                "wrong password, an unknown user or domain, or its requests "
                                "did not reach the server on one connection")
                return
            try:
                out = context.step(incoming)
            except Exception as exc:  # pyspnego raises ValueError, struct.error, ... on junk
                self.refused = f"the server's handshake token is unreadable ({_why(exc)})"
                return
        self.refused = f"the handshake did not end within {MAX_ROUNDS} rounds"


def _one_connection(verify: ssl.SSLContext | bool) -> httpx.HTTPTransport:
    """A transport of exactly one connection: the handshake cannot leave it."""
    return httpx.HTTPTransport(verify=verify, retries=0, limits=httpx.Limits(
        max_connections=1, max_keepalive_connections=1))


def windows_token_response(token_url: str, *, username: str | None, password: str | None,
                           hooks: ExchangeHooks, timeout: httpx.Timeout,
                           verify: ssl.SSLContext | bool, redact: Redact) -> httpx.Response:
    """POST the Windows grant to ``token_url`` over one connection, through the handshake;
    the token endpoint's last answer. The caller has checked that ``token_url`` may receive
    credentials (trust rule) before this sends anything."""
    import spnego.exceptions  # here: only Windows sign-in needs pyspnego

    auth = NegotiateAuth(username, password)
    # Bounded like every other read of the session's (client/transport.py).
    with httpx.Client(transport=BoundedRead(_one_connection(verify)), timeout=timeout,
                      follow_redirects=False, trust_env=False,
                      event_hooks=hooks.event_hooks) as client:
        request = client.build_request(
            "POST", token_url, data={"grant_type": WINDOWS_GRANT},
            headers={"Accept": "application/json"}, extensions=tag("token"))
        try:
            response = client.send(request, auth=auth)
        except spnego.exceptions.SpnegoError as exc:
            raise SignInError(0, "WindowsSignInUnavailable", message=_unavailable(exc, password),
                              method="POST", url=token_url, redact=redact) from None
    if auth.refused is not None and response.status_code == 401:
        raise SignInError(401, "WindowsSignInRefused", message=auth.refused,
                          diagnostics=response.headers.get("x-ms-diagnostics"),
                          method="POST", url=token_url, redact=redact)
    return response


def _why(exc: Exception) -> str:
    return str(exc).partition("Context: ")[2] or str(exc) or type(exc).__name__


def _unavailable(exc: Exception, password: str | None) -> str:
    why = _why(exc)
    if password is None:
        return ("no Windows credentials here to sign in with (" + why + "): on Linux or macOS "
                "pass username='DOMAIN\\\\user' (or 'user@domain') and password=, or get a "
                "Kerberos ticket (kinit) with python-gssapi installed")
    return f"Windows sign-in could not start: {why}"
