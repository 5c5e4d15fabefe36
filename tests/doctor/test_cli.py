"""``ucwa-nb explain FILE.har``: findings on stdout, exit 1; clean 0; unreadable 2 with a
message and no traceback. ``ucwa-nb serve --help`` is the simulator's as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ucwa_nb.cli import main


def test_explain_a_fiddler_har(fixtures: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(fixtures / "fiddler-proxy-and-tokens.har")]) == 1
    out = capsys.readouterr().out
    assert "signin.token-refused" in out
    assert "secretsecret" not in out
    assert "SECRETBLOB" not in out


def test_explain_as_json(fixtures: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--json", str(fixtures / "browser-cross-domain.har")]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in data["findings"]] == ["signin.cross-domain"]


def test_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cut.har"
    path.write_text('{"log": {"entries": [{"request"', encoding="utf-8")
    assert main(["explain", str(path)]) == 2
    captured = capsys.readouterr()
    assert "truncated" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_serve_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "--scenario" in capsys.readouterr().out
