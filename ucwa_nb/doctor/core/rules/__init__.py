"""Every rule of the doctor, by family: sign-in, application, event channel, operations,
outcomes. ``RULES`` is the list ``diagnose`` runs; each module documents its family."""

from __future__ import annotations

from ucwa_nb.doctor.core.finding import Rule
from ucwa_nb.doctor.core.rules import application, channel, operations, outcomes, signin

__all__ = ["RULES", "rule"]

RULES: tuple[Rule, ...] = (*signin.RULES, *application.RULES, *channel.RULES,
                           *operations.RULES, *outcomes.RULES)


def rule(rule_id: str) -> Rule:
    """The rule with this id; KeyError names the known ids."""
    for candidate in RULES:
        if candidate.id == rule_id:
            return candidate
    raise KeyError(f"no rule {rule_id!r}; known: {', '.join(r.id for r in RULES)}")
