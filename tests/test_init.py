"""The package's public names, and what importing it costs."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import ucwa_nb


def test_every_public_name_resolves() -> None:
    for name in ucwa_nb.__all__:
        assert getattr(ucwa_nb, name) is not None, name


def test_every_public_class_says_what_it_is() -> None:
    # A dataclass without a docstring gets its signature as __doc__: that says nothing.
    for name in ucwa_nb.__all__:
        value = getattr(ucwa_nb, name)
        if inspect.isclass(value):
            doc = (value.__doc__ or "").strip()
            assert doc, name
            assert not doc.startswith(f"{value.__name__}("), name


def test_simulator_builders_and_sign_in_internals_stay_in_their_layers() -> None:
    for name in ("build_events", "build_reason", "build_resource", "candidate_roots",
                 "PasswordGrant", "OperationRunner"):
        assert name not in ucwa_nb.__all__


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        ucwa_nb.no_such_name  # noqa: B018


def test_the_simulator_is_imported_only_when_used() -> None:
    code = ("import sys, ucwa_nb; print('uvicorn' in sys.modules, 'starlette' in sys.modules); "
            "ucwa_nb.Simulator; print('uvicorn' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.split() == ["False", "False", "True"]
