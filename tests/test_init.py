"""The package's public names, and what importing it costs."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

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


def test_pyspnego_is_imported_only_for_windows_sign_in() -> None:
    # ~60 ms of imports (cryptography among them) that every other user would pay for.
    code = "import sys, ucwa_nb; print('spnego' in sys.modules, 'cryptography' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------ a notebook-first API

PUBLIC_PACKAGES = ("ucwa_nb", "ucwa_nb.client", "ucwa_nb.widgets", "ucwa_nb.sim", "ucwa_nb.log",
                   "ucwa_nb.protocol", "ucwa_nb.doctor")


def test_the_top_level_holds_what_a_notebook_needs_and_no_more() -> None:
    names = [name for name in ucwa_nb.__all__ if not name.startswith("__")]
    assert len(names) <= 25, names
    for plumbing in ("Sender", "build_input", "EventChannel", "Challenge", "OperationRunner"):
        assert plumbing not in names


@pytest.mark.parametrize(("name", "home"), [
    ("EventChannel", "ucwa_nb.client"), ("Resource", "ucwa_nb.protocol"),
    ("build_input", "ucwa_nb.protocol"), ("ScenarioError", "ucwa_nb.sim"),
])
def test_a_name_that_moved_still_resolves_and_says_where_it_lives(name: str, home: str) -> None:
    with pytest.warns(DeprecationWarning, match=f"ucwa_nb.{name} is now {home}.{name}"):
        value = getattr(ucwa_nb, name)
    assert value is getattr(importlib.import_module(home), name)


def _members(package: str) -> Iterator[tuple[str, Any]]:
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue  # constants, modules, typing aliases
        yield f"{package}.{name}", value
        if inspect.isclass(value):
            for member, attribute in vars(value).items():
                if member.startswith("_"):
                    continue
                if isinstance(attribute, staticmethod | classmethod):
                    attribute = attribute.__func__
                if inspect.isfunction(attribute) or isinstance(attribute, property):
                    yield f"{package}.{name}.{member}", attribute


def test_every_public_member_says_what_it_does() -> None:
    undocumented = sorted({where for package in PUBLIC_PACKAGES
                           for where, value in _members(package)
                           if not (value.__doc__ or "").strip()})
    assert undocumented == []
