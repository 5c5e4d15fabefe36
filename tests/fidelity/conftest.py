"""The recorded session, made once per test run and format (recording_support.py)."""

from __future__ import annotations

from recording_support import recorded

__all__ = ["recorded"]
