"""ucwa-nb scenario-from-har, through the ucwa-nb dispatcher."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.recording import Recorded

from ucwa_nb.cli import main
from ucwa_nb.sim.scenario_loader import scenario_from_toml


def test_writes_a_scenario_the_simulator_loads(recorded: Recorded, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "recorded.toml"
    assert main(["scenario-from-har", str(recorded("json")), "-o", str(out), "--strict",
                 "--name", "my server", "--password", "s3cret-replay"]) == 0
    printed = capsys.readouterr().out
    assert "sip:alice@contoso.com with 3 conversations, 3 conversation logs, 4 contacts" in \
        printed
    assert "strict:" in printed
    scenario = scenario_from_toml(out)
    assert scenario.name == "my server"
    assert scenario.demo_user.password == "s3cret-replay"


def test_bad_input_is_a_message_and_status_2(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "cut.har"
    bad.write_text('{"log": {"entries": [', "utf-8")
    assert main(["scenario-from-har", str(bad), "-o", str(tmp_path / "x.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ucwa-nb scenario-from-har: ")
    assert "not complete JSON" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.toml").exists()


def test_serve_is_still_listed_and_the_new_command_too(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "serve" in text
    assert "scenario-from-har" in text
