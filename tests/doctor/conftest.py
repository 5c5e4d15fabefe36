"""Helpers of the doctor's tests: which rules fired on a log, HAR fixtures' paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ucwa_nb.doctor.core import Finding
from ucwa_nb.doctor.explain import explain

FIXTURES = Path(__file__).parent / "fixtures"


def fired(x: Any, rule_id: str) -> list[Finding]:
    """The findings of ``rule_id`` in ``explain(x)``."""
    return [f for f in explain(x) if f.rule == rule_id]


@pytest.fixture
def fixtures() -> Path:
    """The directory of the hand-written HAR files (browser and Fiddler shapes)."""
    return FIXTURES
