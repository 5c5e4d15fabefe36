"""Exceptions of the client side.

    UcwaError         a UCWA server answered a request with an error (synchronous error)
    ValidationError   input rejected locally, before anything was sent
    DiscoveryError    no UCWA server could be found or signed in to
"""

from __future__ import annotations

from typing import Any

import httpx

from ucwa_nb.protocol.representation import ParseError, Reason, format_of, parse

__all__ = ["DiscoveryError", "UcwaError", "ValidationError"]


class UcwaError(Exception):
    """A synchronous UCWA error: HTTP status, code, subcode, message, parameters.

    Raised after the exchange has been logged; ``str()`` never contains a token.
    """

    def __init__(self, status: int, code: str, subcode: str | None = None,
                 message: str | None = None, parameters: dict[str, Any] | None = None,
                 diagnostics: str | None = None, method: str = "", url: str = "") -> None:
        self.status = status
        self.code = code
        self.subcode = subcode
        self.message = message
        self.parameters = parameters or {}
        self.diagnostics = diagnostics
        self.method = method
        self.url = url
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
        return Reason(self.code, self.subcode, self.message, dict(self.parameters))

    @classmethod
    def from_response(cls, response: httpx.Response) -> UcwaError:
        content_type = response.headers.get("content-type")
        reason: Reason | None = None
        if format_of(content_type) is not None and response.content:
            try:
                parsed = parse(response.content, content_type)
            except ParseError:
                parsed = None
            if isinstance(parsed, Reason):
                reason = parsed
        if reason is None:
            # Not a UCWA error body: an OAuth error, an IIS page, a proxy's answer.
            code = response.reason_phrase.replace(" ", "") or f"HTTP{response.status_code}"
            message = None
            try:
                data = response.json()
                if isinstance(data, dict) and isinstance(data.get("error"), str):
                    code, message = "OAuthError", data["error"]
            except ValueError:
                pass
            reason = Reason(code, None, message)
        request = response.request
        return cls(response.status_code, reason.code, reason.subcode, reason.message,
                   reason.parameters, response.headers.get("x-ms-diagnostics"),
                   request.method, str(request.url.copy_with(query=None)))


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
