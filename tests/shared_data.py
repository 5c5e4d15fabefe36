"""Test data that lives beside the repository, in ``../shared``, not in it.

Microsoft's reference samples (``ucwa-samples``) and the seed pages (``seeds``) are their
documentation, not ours to copy into the repository, so a plain clone has no ``../shared``.
The tests built on them ask for it through ``require_shared``: where it is missing they skip
with a reason that says what they need and where, except under ``CI=true``, where CI runs
with ``../shared`` beside the checkout and a missing file is a failure. Nothing here reads
``../shared`` at import, so collection works on a plain clone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import pytest

__all__ = ["SHARED", "require_shared", "shared_params"]

T = TypeVar("T")

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED = REPOSITORY.parent / "shared"


def _missing_reason(path: Path) -> str | None:
    if path.exists():
        return None
    return (f"needs {path.relative_to(SHARED.parent)} beside the repository ({path}): "
            "Microsoft's UCWA reference samples and seed pages, not part of a clone")


def require_shared(relative: str) -> Path:
    """``../shared/<relative>``; skips the test when it is missing (fails under CI=true)."""
    path = SHARED / relative
    reason = _missing_reason(path)
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and a test cannot run: it {reason}", pytrace=False)
        pytest.skip(reason)
    return path


def shared_params(relative: str, load: Callable[[Path], Iterable[T]],
                  name: Callable[[T], str]) -> list[Any]:
    """Parameters made from ``../shared/<relative>`` (``load`` reads them, ``name`` gives each
    its test id), for ``metafunc.parametrize`` at collection time.

    Where the file is missing: one placeholder parameter (None), so that the test is
    collected and its ``require_shared`` skips it (or fails it under CI) with the reason.
    """
    path = SHARED / relative
    if _missing_reason(path) is not None:
        return [pytest.param(None, id=f"missing-{relative}")]
    return [pytest.param(value, id=name(value)) for value in load(path)]
