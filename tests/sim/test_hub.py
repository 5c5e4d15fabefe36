"""The trainer's view behind JupyterHub's login (sim/hub.py), against a stand-in for HubOAuth
with its interface (the hub itself is the end-to-end test's), on a simulator under a prefix;
and ``ucwa-nb serve --jupyterhub``'s settings from the hub's environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from support import fast_scenario

from ucwa_nb import Simulator
from ucwa_nb.sim.cli import hub_service, scenario_to_serve
from ucwa_nb.sim.hub import HubTrainerGate
from ucwa_nb.sim.scenario import ScenarioError
from ucwa_nb.sim.server import SimulatorError

PREFIX = "/services/ucwa-nb"
USERS: dict[str, dict[str, Any]] = {
    "token-trainer": {"name": "trainer", "groups": ["ucwa-nb-trainers"]},
    "token-admin": {"name": "root", "admin": True, "groups": []},
    "token-alice": {"name": "alice", "groups": ["students"]}}


class FakeHubOAuth:
    """HubOAuth's methods that the gate uses, with the hub's answers made up."""

    oauth_client_id = "service-ucwa-nb"
    login_url = "http://hub.test/hub/api/oauth2/authorize?client_id=service-ucwa-nb"

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}
        self.codes = {"code-trainer": "token-trainer", "code-alice": "token-alice"}

    def generate_pkce_code_challenge(self) -> tuple[str, str, str]:
        return "verifier", "challenge", "S256"

    def generate_state(self, next_url: str, **extra: Any) -> str:
        state = f"state{len(self.states)}"
        self.states[state] = {"next_url": next_url, **extra}
        return state

    def get_next_url(self, state: str) -> str | None:
        return self.states.get(state, {}).get("next_url")

    def get_code_verifier(self, state: str) -> str | None:
        return self.states.get(state, {}).get("code_verifier")

    def clear_oauth_state(self, state: str) -> None:
        self.states.pop(state, None)

    async def token_for_code(self, code: str, *, code_verifier: str | None,
                             sync: bool) -> str:
        assert code_verifier == "verifier"
        return self.codes[code]

    async def user_for_token(self, token: str, *, sync: bool) -> dict[str, Any] | None:
        return USERS.get(token)


@pytest.fixture
def hub_sim() -> Iterator[Simulator]:
    with Simulator(fast_scenario(), root_path=PREFIX,
                   trainer_gate=HubTrainerGate(FakeHubOAuth())) as sim:
        yield sim


def _activity(sim: Simulator) -> str:
    return sim.base_url + PREFIX + "/_simulator/activity"


def test_a_browser_not_logged_in_is_sent_to_the_hubs_login(hub_sim: Simulator) -> None:
    answer = httpx.get(_activity(hub_sim))
    assert answer.status_code == 302
    target = urlsplit(answer.headers["location"])
    assert target.netloc == "hub.test"
    query = parse_qs(target.query)
    assert query["code_challenge_method"] == ["S256"]
    assert answer.cookies["ucwa-nb-oauth-state"] == query["state"][0]


def _login(sim: Simulator, client: httpx.Client, code: str) -> None:
    state = parse_qs(urlsplit(client.get(PREFIX + "/_simulator/activity")
                              .headers["location"]).query)["state"][0]
    back = client.get(PREFIX + "/oauth_callback", params={"code": code, "state": state})
    assert back.status_code == 302
    assert back.headers["location"] == PREFIX + "/_simulator/activity"


def test_a_trainer_logs_in_through_the_hub_and_sees_the_activity(hub_sim: Simulator) -> None:
    with httpx.Client(base_url=hub_sim.base_url) as client:
        _login(hub_sim, client, "code-trainer")
        answer = client.get(PREFIX + "/_simulator/activity")
    assert answer.status_code == 200
    assert answer.json() == []


def test_an_attendee_is_refused(hub_sim: Simulator) -> None:
    with httpx.Client(base_url=hub_sim.base_url) as client:
        _login(hub_sim, client, "code-alice")
        answer = client.get(PREFIX + "/_simulator/activity")
    assert answer.status_code == 403
    assert "ucwa-nb-trainers" in answer.text


def test_a_hub_admin_is_a_trainer(hub_sim: Simulator) -> None:
    answer = httpx.get(_activity(hub_sim), cookies={"service-ucwa-nb": "token-admin"})
    assert answer.status_code == 200


def test_a_callback_with_another_state_is_refused(hub_sim: Simulator) -> None:
    with httpx.Client(base_url=hub_sim.base_url) as client:
        client.get(PREFIX + "/_simulator/activity")
        answer = client.get(PREFIX + "/oauth_callback",
                            params={"code": "code-trainer", "state": "forged"})
    assert answer.status_code == 400
    assert "service-ucwa-nb" not in answer.cookies


def test_the_login_pages_cannot_be_framed(hub_sim: Simulator) -> None:
    with httpx.Client(base_url=hub_sim.base_url) as client:
        redirect = client.get(PREFIX + "/_simulator/activity")
        answers = [redirect,
                   client.get(PREFIX + "/oauth_callback",
                              params={"code": "code-trainer", "state": "forged"})]
    assert [a.status_code for a in answers] == [302, 400]
    for answer in answers:
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_without_a_hub_gate_the_callback_is_not_found() -> None:
    with Simulator(fast_scenario()) as sim:
        assert httpx.get(sim.base_url + "/oauth_callback").status_code == 404


def test_serve_jupyterhub_reads_the_hubs_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "service-token")
    monkeypatch.setenv("JUPYTERHUB_CLIENT_ID", "service-ucwa-nb")
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api")
    settings = hub_service({"JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:10101",
                            "JUPYTERHUB_SERVICE_PREFIX": "/services/ucwa-nb/"}, "teachers")
    assert (settings["host"], settings["port"], settings["prefix"]) == (
        "127.0.0.1", 10101, "/services/ucwa-nb/")
    gate = settings["trainer_gate"]
    assert isinstance(gate, HubTrainerGate)
    assert gate.group == "teachers"
    assert settings["hub_domain"] == "contoso.com"  # UCWA_NB_DOMAIN unless set
    with pytest.raises(SimulatorError, match="JUPYTERHUB_SERVICE_URL"):
        hub_service({}, None)


def test_serve_jupyterhub_without_a_scenario_serves_the_default_one_to_hub_users(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("UCWA_NB_SEED", "a class secret of 32 characters!")
    scenario = scenario_to_serve(None, "class.example")
    assert scenario.name == "default"
    assert scenario.hub_users is not None
    assert scenario.hub_users.domain == "class.example"
    # A class scenario must let hub users in: the passwords the hub hands out need it.
    plain = tmp_path / "plain.toml"
    plain.write_text('[[users]]\nuri = "sip:a@contoso.com"\npassword = "p"\n', "utf-8")
    with pytest.raises(ScenarioError, match="hub_users"):
        scenario_to_serve(str(plain), "contoso.com")
    assert scenario_to_serve(str(plain), None).hub_users is None  # not on a hub: as it is


def test_serve_jupyterhub_listens_where_told_in_a_pod_of_its_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from ucwa_nb.sim import cli

    served: list[tuple[str, int]] = []

    def serve(host: str, port: int, *args: Any, **kwargs: Any) -> int:
        served.append((host, port))
        return 0

    monkeypatch.setattr(cli, "hub_service", lambda environ, group: {
        "host": "ucwa-nb-0.ucwa-nb", "port": 10101, "prefix": "/services/ucwa-nb-0/"})
    monkeypatch.setattr(cli, "serve", serve)
    assert cli.main(["serve", "--jupyterhub"]) == 0
    assert cli.main(["serve", "--jupyterhub", "--host", "0.0.0.0"]) == 0
    assert cli.main(["serve"]) == 0
    assert served == [("ucwa-nb-0.ucwa-nb", 10101), ("0.0.0.0", 10101), ("127.0.0.1", 8080)]
