"""The simulated world's clock: a monotonic clock (``time.monotonic`` by default) that tests
can move on, so that expiries (applications, tokens, the callback channel's grace) are
tested on the world's time rather than by sleeping on the wall clock."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock"]


class Clock:
    """``clock()`` is ``base()`` plus every ``advance`` so far."""

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self._base = base
        self._offset = 0.0

    def __call__(self) -> float:
        return self._base() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the world's time on by ``seconds`` (on the simulator's event loop)."""
        if seconds < 0:
            raise ValueError("a monotonic clock does not go back")
        self._offset += seconds
