"""docs/jupyterhub_config.py, the fragment a hub's config takes: run with a traitlets Config
as JupyterHub runs it; the passwords it hands out are the ones the simulator accepts."""

from __future__ import annotations

import tomllib
import types
from pathlib import Path
from typing import Any

import pytest
from support import fast_scenario_dict
from traitlets.config import Config

from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenario_loader import scenario_from_dict
from ucwa_nb.sim.shards import shard_of

FRAGMENT = Path(__file__).resolve().parents[2] / "docs" / "jupyterhub_config.py"
SEED = "a class secret of 32 characters!"


def _run(monkeypatch: pytest.MonkeyPatch) -> tuple[Config, dict[str, Any]]:
    monkeypatch.setenv("UCWA_NB_SEED", SEED)
    monkeypatch.setenv("UCWA_NB_DOMAIN", "class.example")
    config = Config()
    namespace: dict[str, Any] = {"get_config": lambda: config}
    exec(compile(FRAGMENT.read_text("utf-8"), str(FRAGMENT), "exec"), namespace)
    return config, namespace


def _spawner(name: str) -> Any:
    return types.SimpleNamespace(user=types.SimpleNamespace(name=name))


def test_the_fragment_runs_the_service_and_hands_out_credentials(
        monkeypatch: pytest.MonkeyPatch) -> None:
    config, _ = _run(monkeypatch)
    service = config.JupyterHub.services[-1]
    assert service["name"] == "ucwa-nb"
    assert service["command"][:3] == ["ucwa-nb", "serve", "--jupyterhub"]
    env = config.Spawner.environment
    assert env["UCWA_NB_URL"].endswith(
        "/services/ucwa-nb/autodiscover/autodiscoverservice.svc/root")
    assert env["UCWA_NB_USERNAME"](_spawner("maria")) == "maria@class.example"
    assert "ucwa-nb-trainers" in config.JupyterHub.load_groups


def test_the_handed_out_password_signs_in_that_user_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    config, _ = _run(monkeypatch)
    data = fast_scenario_dict()
    data["classroom"] = {"domain": "class.example", "hub_users": True,
                         "password_seed_env": "UCWA_NB_SEED"}
    world = World(scenario_from_dict(data))
    password = config.Spawner.environment["UCWA_NB_PASSWORD"]
    maria, pierre = _spawner("maria"), _spawner("pierre")
    assert world.issue_token("maria@class.example", password(maria)) is not None
    assert world.issue_token("pierre@class.example", password(maria)) is None
    assert world.issue_token("pierre@class.example", password(pierre)) is not None


@pytest.mark.parametrize("hub_name", ["ada@example.org", "o'brien+class", "zoë"])
def test_a_hub_name_a_sip_uri_cannot_hold_as_is_still_signs_in(
        monkeypatch: pytest.MonkeyPatch, hub_name: str) -> None:
    # An OAuth authenticator names users by e-mail address; others allow more characters.
    config, _ = _run(monkeypatch)
    data = fast_scenario_dict()
    data["classroom"] = {"domain": "class.example", "hub_users": True,
                         "password_seed_env": "UCWA_NB_SEED"}
    world = World(scenario_from_dict(data))
    env = config.Spawner.environment
    username = env["UCWA_NB_USERNAME"](_spawner(hub_name))
    assert username.endswith("@class.example")
    assert username.count("@") == 1
    token = world.issue_token(username, env["UCWA_NB_PASSWORD"](_spawner(hub_name)))
    assert token is not None
    assert token.user.spec.uri == "sip:" + username
    assert token.user.spec.name == hub_name  # shown as the hub shows it


def test_the_guides_class_scenario_loads_and_its_callee_answers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The TOML block of docs/classroom.md, as a trainer would copy it.
    guide = (FRAGMENT.parent / "classroom.md").read_text("utf-8")
    block = guide.split("```toml\n", 1)[1].split("```", 1)[0]
    monkeypatch.setenv("UCWA_NB_SEED", SEED)
    scenario = scenario_from_dict(tomllib.loads(block), name="class")
    john = scenario.contact("sip:john@contoso.com")
    assert john is not None
    assert john.behaviour == "answers"
    assert scenario.hub_users is not None


def test_without_the_seed_the_hub_stops_with_a_message_that_says_where_to_set_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UCWA_NB_SEED", raising=False)
    namespace: dict[str, Any] = {"get_config": Config}
    with pytest.raises(SystemExit) as info:
        exec(compile(FRAGMENT.read_text("utf-8"), str(FRAGMENT), "exec"), namespace)
    message = str(info.value.code)
    assert "UCWA_NB_SEED is not set" in message
    assert "Environment=UCWA_NB_SEED=" in message
    assert "systemctl daemon-reload" in message
    assert "hub.extraEnv" in message


def test_the_service_command_is_one_the_hub_can_run(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    _, namespace = _run(monkeypatch)
    command = namespace["ucwa_nb_command"]
    monkeypatch.setenv("UCWA_NB_COMMAND", "/srv/ucwa/bin/ucwa-nb")
    assert command() == "/srv/ucwa/bin/ucwa-nb"
    monkeypatch.delenv("UCWA_NB_COMMAND")
    monkeypatch.setenv("PATH", str(tmp_path))  # the hub's PATH, without ucwa-nb
    tljh = tmp_path / "ucwa-nb"
    tljh.write_text("#!/bin/sh\n")
    monkeypatch.setitem(namespace, "_TLJH_COMMAND", str(tljh))
    assert command() == str(tljh)  # found where TLJH's user environment puts it
    tljh.chmod(0o755)
    assert command() == "ucwa-nb"  # on the PATH: the bare name


def test_sharded_the_fragment_runs_n_services_and_sends_each_user_to_theirs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UCWA_NB_SHARDS", "3")
    monkeypatch.setenv("UCWA_NB_FORWARDED_ALLOW_IPS", "10.0.0.0/8")
    config, namespace = _run(monkeypatch)
    services = config.JupyterHub.services[-3:]
    assert [s["name"] for s in services] == ["ucwa-nb-0", "ucwa-nb-1", "ucwa-nb-2"]
    assert [s["url"] for s in services] == [f"http://127.0.0.1:{10101 + i}" for i in range(3)]
    assert services[0]["command"][-2:] == ["--forwarded-allow-ips", "10.0.0.0/8"]
    [role] = [r for r in config.JupyterHub.load_roles if r["name"] == "user"]
    assert {f"access:services!service=ucwa-nb-{i}" for i in range(3)} <= set(role["scopes"])
    url = config.Spawner.environment["UCWA_NB_URL"]
    for name in ("maria", "pierre", "ada@example.org", "Zoë"):
        # The fragment (self-contained) and the package agree on every user's shard.
        shard = shard_of(name, 3)
        assert namespace["ucwa_nb_shard"](name, 3) == shard
        assert url(_spawner(name)).endswith(
            f"/services/ucwa-nb-{shard}/autodiscover/autodiscoverservice.svc/root")
