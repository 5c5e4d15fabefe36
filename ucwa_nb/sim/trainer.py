"""Who may see the simulator's own pages (``/_simulator/activity``): the trainer.

A ``TrainerGate`` decides from the request. The default, ``BasicTrainerGate``, checks HTTP
Basic credentials against the scenario's ``[trainer]`` account, under the same sign-in rate
limits as the token endpoint; with no ``[trainer]`` nobody gets in (``Simulator.activity()``
in Python still works). Another gate (a JupyterHub login: ``hub.HubTrainerGate``) is a
class with the same ``admit`` (and, for a login that comes back, ``callback``), given to
``create_app``.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets

from starlette.requests import Request
from starlette.responses import Response

from ucwa_nb.sim.classroom import TrainerSpec
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.limits import SignInLimits

__all__ = ["BasicTrainerGate", "TrainerGate", "Verdict"]

# (allowed, seconds to wait before trying again: 0 unless throttled)
Verdict = tuple[bool, float]


class TrainerGate:
    """Who may see the trainer's pages."""

    async def admit(self, request: Request) -> Response | None:
        """None to let the request in, else the answer that refuses it."""
        raise NotImplementedError

    async def callback(self, request: Request) -> Response:
        """Where a login this gate started comes back (``<prefix>/oauth_callback``). A gate
        that starts no login has no such page: the UCWA-shaped 404 of any unknown path."""
        raise SimError(404, "NotFound", None)


class BasicTrainerGate(TrainerGate):
    def __init__(self, trainer: TrainerSpec | None, limits: SignInLimits) -> None:
        self.trainer = trainer
        self.limits = limits

    async def admit(self, request: Request) -> Response | None:
        allowed, wait = self.allows(request)
        if allowed:
            return None
        headers = {"WWW-Authenticate": 'Basic realm="ucwa-nb trainer", charset="UTF-8"',
                   "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        if wait:
            headers["Retry-After"] = str(max(1, math.ceil(min(wait, 86400.0))))
        return Response("The trainer's credentials are required.\n", 429 if wait else 401,
                        headers, media_type="text/plain")

    def allows(self, request: Request) -> Verdict:
        credentials = _basic(request.headers.get("authorization"))
        if credentials is None:
            return False, 0.0
        address = request.client.host if request.client else ""
        username, password = credentials
        account = "trainer:" + username.lower()[:256]
        wait = self.limits.attempt_wait(address, account)
        if wait:
            return False, wait
        trainer = self.trainer
        if trainer is not None and secrets.compare_digest(
                username.encode("utf-8", "surrogatepass"),
                trainer.username.encode("utf-8", "surrogatepass")) and \
                secrets.compare_digest(password.encode("utf-8", "surrogatepass"),
                                       trainer.password.encode("utf-8", "surrogatepass")):
            return True, 0.0
        self.limits.failed(address, account)
        return False, 0.0


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None
