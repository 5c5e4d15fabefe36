"""The simulator's synchronous errors, in the documented UCWA shape, and the missing
credentials that are answered with the 401 challenge instead.

Messages follow the reference pages' descriptions where they give one. ``app.py``'s
exception handlers turn both into responses.
"""

from __future__ import annotations

from typing import Any

from ucwa_nb.protocol.representation import Reason

__all__ = ["FrontEndFault", "SimError", "Unauthorized", "fault_error"]

MESSAGES: dict[tuple[str, str | None], str] = {
    ("BadRequest", "NormalizationFailed"): "The phone normalization failed.",
    ("BadRequest", "ParameterValidationFailure"): "Please check what you entered and try again.",
    ("BadRequest", None): "The request could not be read.",
    ("ServiceFailure", "CallbackChannelError"): "The remote event channel is not reachable",
    ("Conflict", "AlreadyExists"): "The requested resource already exists. "
    "Please wait and try again.",
    ("Conflict", "TooManyGroups"): "There are too many groups.",
    ("Conflict", None): "Un-supported Service/Resource/API error.",
    ("Conflict", "PGetReplaced"): "This event channel request was replaced by a newer one.",
    ("Gone", "CannotRedirect"): "Cannot redirect since there is no back up pool configured.",
    ("Gone", "TooManyApplications"): "The user has too many applications; this one was "
    "removed to make room for a newer one.",
    ("Gone", "InactiveApplicationExpired"): "The application expired: its events were not "
    "read.",
    ("NotFound", "ApplicationNotFound"): "The application does not exist.",
    ("NotFound", None): "The requested resource was not found.",
    ("Forbidden", None): "The operation is not allowed.",
    ("EntityTooLarge", None): "The request body is too large.",
    ("UnsupportedMediaType", None): "The content type is not supported.",
    ("MethodNotAllowed", None): "The method is not allowed on this resource.",
    ("ServiceFailure", None): "The service failed to process the request.",
    ("ServiceFailure", "InvalidExchangeServerVersion"): "The Exchange server version is not "
    "supported.",
}


class SimError(Exception):
    """Raised inside the simulator; the HTTP layer renders it as a UCWA error response."""

    def __init__(
        self,
        status: int,
        code: str,
        subcode: str | None = None,
        message: str | None = None,
        parameters: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.reason = Reason(
            code=code,
            subcode=subcode,
            message=message or MESSAGES.get((code, subcode)) or MESSAGES.get((code, None)),
            parameters=parameters or {},
        )
        self.headers = headers or {}
        super().__init__(f"{status} {code}/{subcode}: {self.reason.message}")


class Unauthorized(Exception):
    """No valid bearer token: answered 401 with the WWW-Authenticate challenge."""


class FrontEndFault(Exception):
    """An injected fault answered as a front end in front of the pool answers, not as UCWA
    (``scenario.FRONT_END_FAULTS``; ``front_end.py`` writes the answer)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"front-end fault {name}")


def fault_error(status: int, code: str, subcode: str | None) -> SimError:
    return SimError(status, code, subcode, headers={"X-Ucwa-Nb-Injected-Fault": "true"})
