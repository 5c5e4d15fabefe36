"""Fixtures of the doctor's tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.doctor import FIXTURES


@pytest.fixture
def fixtures() -> Path:
    """The directory of the hand-written HAR files (browser and Fiddler shapes)."""
    return FIXTURES
