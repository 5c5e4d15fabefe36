"""An operation's input, judged from its definition (``protocol/operations.py``): the one
generic check of every operation that takes input, so that a new operation brings its fields
and their checks, not code of its own here.

The fields' checks are the client's too (its local check and the forms call them): a value
passes locally exactly when the simulator accepts it, with the same message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ucwa_nb.protocol.operations import PARAMETER_VALIDATION_FAILED, CheckContext, OperationSpec
from ucwa_nb.sim.errors import SimError

__all__ = ["case_insensitive", "judge_input"]

NOT_A_STRING = "This parameter must be a string."


def judge_input(spec: OperationSpec, props: Mapping[str, Any],
                context: CheckContext) -> dict[str, str]:
    """The input of ``spec`` in ``props`` (a parsed body), by UCWA name, when every field
    passes; else 400 ParameterValidationFailure naming each field that failed.

    Properties the operation does not take are ignored. A field's dial-plan check (its
    ``normalization``: phoneNumber, a number in ``to``), answered with NormalizationFailed,
    is left to the operation, in its documented order (after the live-channel check, once a
    default is filled in)."""
    values = case_insensitive(props, tuple(f.name for f in spec.fields))
    problems: dict[str, str] = {}
    for input_field in spec.fields:
        value = values.get(input_field.name)
        if value is not None and not isinstance(value, str):
            problems[input_field.name] = NOT_A_STRING
        else:
            problem = input_field.problem(value, context, normalize=False)
            if problem is not None:
                problems[input_field.name] = problem
    if problems:
        raise SimError(400, "BadRequest", PARAMETER_VALIDATION_FAILED, parameters=problems)
    # A null is a property left out.
    return {name: value for name, value in values.items() if value is not None}


def case_insensitive(props: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """UCWA input property names are case-insensitive (PascalCase walkthroughs, camelCase
    reference); map them onto the canonical names."""
    canonical = {name.lower(): name for name in names}
    out: dict[str, Any] = {}
    for key, value in props.items():
        name = canonical.get(key.lower())
        if name is not None:
            out[name] = value
    return out
