"""Faults injected on operations (a scenario's ``[[faults]]``, ``Simulator.add_fault``): the
next requests on links with a rel are answered with the fault's error instead (a UCWA error,
or for ``FRONT_END_FAULTS`` what a proxy or IIS in front of the pool answers).

One of the World's parts (``world.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ucwa_nb.sim.errors import FrontEndFault, fault_error
from ucwa_nb.sim.scenario import FAULTS, FRONT_END_FAULTS, KNOWN_FAULTS, FaultSpec
from ucwa_nb.sim.state import UserState

__all__ = ["ActiveFault", "InjectedFaults"]


@dataclass
class ActiveFault:
    """A fault and how many more requests it answers."""

    spec: FaultSpec
    remaining: int  # 0 = until cleared


class InjectedFaults:
    """The faults in force, in the order they were added."""

    def __init__(self, specs: tuple[FaultSpec, ...]) -> None:
        self.active: list[ActiveFault] = [ActiveFault(f, f.count) for f in specs]

    def add(self, spec: FaultSpec) -> None:
        """Inject ``spec`` (ValueError for an error no fault can inject)."""
        if spec.error not in KNOWN_FAULTS:
            raise ValueError(f"unknown fault {spec.error!r}; known: {', '.join(KNOWN_FAULTS)}")
        self.active.append(ActiveFault(spec, spec.count))

    def clear(self) -> None:
        """No fault in force any more."""
        self.active.clear()

    def check(self, rel: str, user: UserState) -> None:
        """Raise the error of the first fault on ``rel`` (for ``user``), counting it: a
        ``SimError``, or a ``FrontEndFault`` for the front ends' faults."""
        for fault in self.active:
            spec = fault.spec
            if spec.rel.lower() != rel.lower():
                continue
            if spec.user is not None and spec.user.removeprefix("sip:").lower() != user.key:
                continue
            if fault.remaining == 1:
                self.active.remove(fault)
            elif fault.remaining > 1:
                fault.remaining -= 1
            if spec.error in FRONT_END_FAULTS:
                raise FrontEndFault(spec.error)
            raise fault_error(*FAULTS[spec.error])
