"""Exceptions of the client side.

    UcwaError         a UCWA server answered a request with an error (synchronous error)
    ValidationError   input rejected locally, before anything was sent
    DiscoveryError    no UCWA server could be found or signed in to
    SignInError       the token endpoint refused the sign-in (a UcwaError and a DiscoveryError)
    UntrustedHostError  a credential would have gone to a host it does not belong to: refused,
                      nothing sent (a UcwaError)

Messages pass the log's redactor (``redact``), so a server that quotes the request's
Authorization header or echoes the password form does not put a secret into ``str(error)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from ucwa_nb.protocol.representation import Reason
from ucwa_nb.protocol.representation import reason_of as ucwa_reason_of

__all__ = ["DiscoveryError", "SignInError", "UcwaError", "UntrustedHostError",
           "ValidationError", "json_of", "oauth_error"]

Redact = Callable[[str], str]


def _unchanged(text: str) -> str:
    return text


class UcwaError(Exception):
    """A synchronous UCWA error: HTTP status, code, subcode, message, parameters.

    Raised after the exchange has been logged; ``str()`` never contains a token.
    """

    def __init__(self, status: int, code: str, subcode: str | None = None,
                 message: str | None = None, parameters: dict[str, Any] | None = None,
                 diagnostics: str | None = None, method: str = "", url: str = "",
                 redact: Redact | None = None) -> None:
        clean = redact or _unchanged
        self.status = status
        self.code = clean(code)
        self.subcode = clean(subcode) if subcode is not None else None
        self.message = clean(message) if message is not None else None
        self.parameters = {clean(str(k)): clean(str(v)) if isinstance(v, str) else v
                           for k, v in (parameters or {}).items()}
        self.diagnostics = clean(diagnostics) if diagnostics is not None else None
        self.method = method
        self.url = clean(url)
        super().__init__(str(self))

    def __str__(self) -> str:
        what = f"{self.status} {self.code}" + (f"/{self.subcode}" if self.subcode else "")
        text = f"{what}: {self.message}" if self.message else what
        if self.parameters:
            text += " (" + "; ".join(f"{k}: {v}" for k, v in self.parameters.items()) + ")"
        if self.method:
            text += f" [{self.method} {self.url}]"
        return text

    @property
    def reason(self) -> Reason:
        """The error as a protocol ``Reason`` (code, subcode, message, parameters)."""
        return Reason(self.code, self.subcode, self.message, dict(self.parameters))

    @classmethod
    def from_response(cls, response: httpx.Response, redact: Redact | None = None
                      ) -> UcwaError:
        """The error a response carries; total: whatever the body is, an error comes back
        (the body is read only if it already was, so a cut body is never read again)."""
        reason = reason_of(response)
        request = response.request
        return cls(response.status_code, reason.code, reason.subcode, reason.message,
                   reason.parameters, response.headers.get("x-ms-diagnostics"),
                   request.method, str(request.url.copy_with(query=None)), redact)


class ValidationError(ValueError):
    """Input that would be rejected; ``problems`` maps each field to what is wrong.

    Pass ``validate=False`` to send it anyway and see what the server says.
    """

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        lines = "; ".join(f"{field}: {problem}" for field, problem in problems.items())
        super().__init__(f"invalid input ({lines}). Pass validate=False to send it anyway.")


class DiscoveryError(RuntimeError):
    """Autodiscovery or sign-in failed; the message says which step and why."""


class SignInError(UcwaError, DiscoveryError):
    """The token endpoint refused the sign-in: ``code`` is the OAuth ``error`` (for a wrong
    password ``invalid_grant``), ``message`` its ``error_description``; ``hint`` says what a
    learner most likely got wrong, when the code tells ("" otherwise)."""

    @property
    def hint(self) -> str:
        """The likely cause in a few words: ``invalid_grant`` is what a token endpoint answers
        to a wrong username or password (RFC 6749 section 5.2); 429 is a throttled one."""
        if self.code != "invalid_grant":
            return ""
        if self.status == 429:
            return "too many sign-in attempts: wait a little and try again"
        return ("wrong username or password? (the username= and password= given, or "
                "UCWA_NB_USERNAME and UCWA_NB_PASSWORD)")

    def __str__(self) -> str:
        text = "sign-in refused: " + super().__str__()
        return f"{text}: {self.hint}" if self.hint else text


class UntrustedHostError(UcwaError):
    """A request that would carry the password or the token to a host it does not belong to
    (another host, or HTTP after HTTPS); refused before anything was sent."""

    def __init__(self, host: str, what: str, why: str, url: str = "") -> None:
        self.host = host
        super().__init__(0, "UntrustedHost", message=f"the {what} is not sent to {host}: {why}",
                         url=url)


def _body_of(response: httpx.Response) -> bytes:
    try:
        return response.content
    except httpx.ResponseNotRead:  # a streamed response cut short: nothing more is read
        return b""


def json_of(response: httpx.Response) -> Any:
    """The JSON of a response's body, None when it is none (not JSON, hostile nesting, a
    streamed body that was cut short)."""
    try:
        return json.loads(_body_of(response))
    except (ValueError, RecursionError):
        return None


def oauth_error(response: httpx.Response) -> tuple[str, str | None] | None:
    """The OAuth ``error`` and ``error_description`` of a token endpoint's answer (RFC 6749
    section 5.2), None when the body is not one."""
    data = json_of(response)
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        description = data.get("error_description")
        return data["error"], description if isinstance(description, str) else None
    return None


def reason_of(response: httpx.Response) -> Reason:
    """The UCWA reason of an error response, total: a UCWA error body, an OAuth error, or
    the status line (an IIS page, a proxy's answer, junk)."""
    reason = ucwa_reason_of(_body_of(response), response.headers.get("content-type"))
    if reason is not None:
        return reason
    code = response.reason_phrase.replace(" ", "") or f"HTTP{response.status_code}"
    oauth = oauth_error(response)
    if oauth is not None:
        return Reason("OAuthError", None, oauth[0])
    return Reason(code, None, None)
