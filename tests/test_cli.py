"""The ``ucwa-nb`` dispatcher's own options: ``--version`` and a ``--help`` in plain text."""

from __future__ import annotations

import re

import pytest

from ucwa_nb import __version__
from ucwa_nb.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ucwa-nb {__version__}"


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"], ["explain", "--help"],
                                  ["preflight", "--help"], ["scenario-from-har", "--help"]])
def test_help_is_plain_text(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: ucwa-nb")
    # No reST markup a terminal would print as it is.
    assert not re.search(r"``|:(func|class|meth|mod):`", text), text
