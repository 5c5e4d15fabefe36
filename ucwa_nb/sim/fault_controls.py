"""Faults a notebook or a test injects into a running simulator: the errors of the reference
pages' tables on the next requests to a link (``inject_fault``), and flaky event polls
(``inject_poll_faults``). A part of ``Simulator`` (``server.py``), which gives it the world,
the poll faults and a way to run code on the server's loop."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ucwa_nb.sim.faults import PollFaults
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenario import KNOWN_FAULTS, FaultSpec, PollFaultSpec

__all__ = ["FaultControls"]

T = TypeVar("T")


class FaultControls:
    """The fault-injection half of a ``Simulator``."""

    world: World
    poll_faults: PollFaults

    @property
    def running(self) -> bool:
        """Whether the server's thread is serving (the Simulator's)."""
        raise NotImplementedError

    def call(self, fn: Callable[[], T], timeout: float = 5.0) -> T:
        """Run ``fn`` on the server's loop (the Simulator's)."""
        raise NotImplementedError

    def inject_fault(self, rel: str, error: str, *, user: str | None = None,
                     count: int = 1) -> None:
        """Answer the next ``count`` requests to links with this rel with ``error``, one of
        AlreadyExists, TooManyGroups, Conflict, CannotRedirect, CallbackChannelError, ...;
        or as a front end in front of the pool would (the sign-in rels ``user`` and
        ``applications`` too): ProxyChallenge (401 offering only Negotiate and NTLM),
        TokenRejected (403, X-Ms-diagnostics 28055), LoginPage (an IIS sign-in page)."""
        if error not in KNOWN_FAULTS:
            raise ValueError(f"unknown fault {error!r}; known: {', '.join(KNOWN_FAULTS)}")
        spec = FaultSpec(rel, error, user, count)
        self.call(lambda: self.world.add_fault(spec))

    def clear_faults(self) -> None:
        """Remove every injected fault (``inject_fault``), as if the scenario had none."""
        self.call(self.world.clear_faults)

    def inject_poll_faults(self, drop_rate: float = 0.0, hold_rate: float = 0.0, *,
                           hold_for: float | None = None, seed: int = 0) -> None:
        """Make event polls fail from now on, like a flaky network or proxy would.

        ``drop_rate`` (0..1) of the polls are answered as usual and then the connection is
        reset (a TCP RST) instead of sending the answer; ``hold_rate`` of them have their
        answer held back ``hold_for`` seconds (None: until the client hangs up), longer
        than the client's read timeout. Which polls is a function of ``seed``, the user,
        the poll's ``ack`` and how often it was asked: reruns hit the same polls. The same
        settings can come from a ``[poll_faults]`` table of the scenario.
        ``inject_poll_faults()`` with no rates turns them off; see ``poll_fault_stats()``."""
        spec = PollFaultSpec(drop_rate, hold_rate, hold_for, seed)
        apply = functools.partial(setattr, self.poll_faults, "spec", spec)
        if self.running:
            self.call(apply)
        else:
            apply()

    def poll_fault_stats(self) -> dict[str, Any]:
        """What the poll faults did so far: polls seen while active, dropped, held, and
        held polls whose client hung up first; in total and ``by_user``."""
        return self.call(self.poll_faults.stats) if self.running else self.poll_faults.stats()
