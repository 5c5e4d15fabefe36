"""The recorded session, made once per test run and format (tests/support/recording.py)."""

from __future__ import annotations

from support.recording import recorded

__all__ = ["recorded"]
