"""One recorded session per format for the whole directory (a few seconds each)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ucwa_nb.protocol.representation import Format
from ucwa_nb.sim import scenarios

from .sessions import record

Recorded = Callable[[Format], Path]


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """``recorded(fmt)``: the HAR of the session (sessions.py) on the fast default world."""
    made: dict[str, Path] = {}

    def get(fmt: Format) -> Path:
        if fmt not in made:
            path = tmp_path_factory.mktemp("recorded") / f"simulator-{fmt}.har"
            record(scenarios.fast(), "ucwa-demo", fmt).to_har(path)
            made[fmt] = path
        return made[fmt]

    return get
