"""The server's pacing: a 429 with ``Retry-After`` at sign-in or at application creation is
waited out, within what ``connect()`` allows, rather than raised at a learner whose whole
class pressed Run All at the same moment.

UCWA's status table lists 429 TooManyRequests; ``Retry-After`` is HTTP's way of saying when
to come back (RFC 9110 10.2.3: seconds, or an HTTP date). Each wait is shown: a
``PacingWarning`` (a notebook shows it under the cell), a line of the ``ucwa_nb.client``
logger, and ``Session.waits`` (the session's repr counts them); the 429 itself is a row of
the log like every exchange. A wait that would end past the deadline is not started: the
caller raises the 429 with a message saying how long the server asked for.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

__all__ = ["Pacing", "PacingWarning", "retry_after"]

log = logging.getLogger("ucwa_nb.client")

# The longest a server may ask for that is believed (a day); beyond it, nothing is waited.
_LONGEST = 86400.0


class PacingWarning(UserWarning):
    """The server asked to wait (429 with Retry-After) and the client is waiting."""


def retry_after(response: httpx.Response) -> float | None:
    """Seconds a 429's ``Retry-After`` asks for (seconds or an HTTP date); None if absent
    or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = max(0.0, (when - datetime.now(UTC)).total_seconds())
    return seconds if math.isfinite(seconds) and seconds <= _LONGEST else None


@dataclass
class Pacing:
    """How long one ``connect()`` may spend waiting out the server's pacing (``budget``
    seconds from when it was made), and the waits so far (``waits``: step, seconds)."""

    budget: float
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.monotonic
    waits: list[tuple[str, float]] = field(default_factory=list)
    refused: str | None = None  # why the last 429 was not waited out

    def __post_init__(self) -> None:
        self.deadline = self.now() + self.budget

    def wait(self, response: httpx.Response, step: str) -> bool:
        """True after waiting out ``response``'s Retry-After (send the request again);
        False if it is no 429 with Retry-After, or the wait would end past the deadline
        (``refused`` says so, for the error the caller raises)."""
        if response.status_code != 429:
            return False
        asked = retry_after(response)
        if asked is None:
            self.refused = None
            return False
        # [infer] A little jitter (up to a quarter of the wait, at most 1 s): a class that
        # was told "1 s" all at once does not come back all at once.
        seconds = asked + random.uniform(0.0, min(1.0, asked / 4))
        left = self.deadline - self.now()
        if seconds > left:
            self.refused = (f"the server asked to wait {asked:.0f} s before {step} again "
                            f"(429 Retry-After), past the {self.budget:.0f} s that connect() "
                            "waits for it (its timeout=); try again later")
            return False
        message = (f"the server is pacing {step} (429 Retry-After: {asked:.0f} s); "
                   f"waiting {seconds:.1f} s and trying again")
        log.info(message)
        warnings.warn(PacingWarning(message), stacklevel=2)
        self.sleep(seconds)
        self.waits.append((step, seconds))
        return True

    def describe(self) -> str:
        """One phrase for a repr: the waits so far ("" for none)."""
        if not self.waits:
            return ""
        total = sum(seconds for _, seconds in self.waits)
        return f"waited {total:.1f} s for the server's pacing ({len(self.waits)}x)"
