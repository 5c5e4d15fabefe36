"""The package's public names, and what importing it costs."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ucwa_nb


def test_every_public_name_resolves() -> None:
    for name in ucwa_nb.__all__:
        assert getattr(ucwa_nb, name) is not None, name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        ucwa_nb.no_such_name  # noqa: B018


def test_the_simulator_is_imported_only_when_used() -> None:
    code = ("import sys, ucwa_nb; print('uvicorn' in sys.modules, 'starlette' in sys.modules); "
            "ucwa_nb.Simulator; print('uvicorn' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.split() == ["False", "False", "True"]
