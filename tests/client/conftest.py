"""Fixtures the client's tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ucwa_nb.client.session import Session


@pytest.fixture
def sessions() -> Iterator[list[Session]]:
    """Sessions a test opened by hand (not through ``connect``'s embedded simulator): each
    is closed at teardown, its HTTP client too."""
    opened: list[Session] = []
    yield opened
    for session in opened:
        session.close()
        session.http_client.close()
