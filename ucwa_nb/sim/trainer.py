"""Who may see the simulator's own pages (``/_simulator/activity``): the trainer.

A ``TrainerGate`` decides from the request. The default, ``BasicTrainerGate``, checks HTTP
Basic credentials against the scenario's ``[trainer]`` account, under the same sign-in rate
limits as the token endpoint; with no ``[trainer]`` nobody gets in (``Simulator.activity()``
in Python still works). Another gate (a JupyterHub login, say) is a class with the same
``allows`` method, given to ``create_app``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Protocol

from starlette.requests import Request

from ucwa_nb.sim.limits import SignInLimits
from ucwa_nb.sim.scenario import TrainerSpec

__all__ = ["BasicTrainerGate", "TrainerGate", "Verdict"]

# (allowed, seconds to wait before trying again: 0 unless throttled)
Verdict = tuple[bool, float]


class TrainerGate(Protocol):
    def allows(self, request: Request) -> Verdict: ...


class BasicTrainerGate:
    def __init__(self, trainer: TrainerSpec | None, limits: SignInLimits) -> None:
        self.trainer = trainer
        self.limits = limits

    def allows(self, request: Request) -> Verdict:
        credentials = _basic(request.headers.get("authorization"))
        if credentials is None:
            return False, 0.0
        address = request.client.host if request.client else ""
        username, password = credentials
        account = "trainer:" + username.lower()[:256]
        wait = max(self.limits.wait(address), self.limits.account_wait(address, account))
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
