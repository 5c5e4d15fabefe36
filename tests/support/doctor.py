"""Helpers of the doctor's tests (``tests/doctor``): which rules fired, the HAR fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ucwa_nb.doctor.core import Finding
from ucwa_nb.doctor.explain import explain

FIXTURES = Path(__file__).parents[1] / "doctor" / "fixtures"


def fired(x: Any, rule_id: str) -> list[Finding]:
    """The findings of ``rule_id`` in ``explain(x)``."""
    return [f for f in explain(x) if f.rule == rule_id]
