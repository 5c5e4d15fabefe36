"""A class on two simulators on one machine (sim/shards.py): attendees assigned by a stable
hash of their hub name, each signs in and calls on their own shard only, and the trainer's
merged view has every call, labelled with its shard."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import httpx
import pytest
from support import Lab, fast_scenario_dict

from ucwa_nb import Simulator
from ucwa_nb.sim import paths
from ucwa_nb.sim.classroom import attendee_password
from ucwa_nb.sim.hub import HubTrainerGate
from ucwa_nb.sim.scenario_loader import scenario_from_dict
from ucwa_nb.sim.shards import merged_activity, shard_of

from .test_hub import PREFIX, FakeHubOAuth

SEED = "the class's secret seed, 32 chars"
DOMAIN = "class.example"
TRAINER = ("trainer", "trainer-secret-42")
NAMES = [f"learner{n}" for n in range(8)]


def _shard_sim(lab: Lab) -> Simulator:
    data = fast_scenario_dict()
    data["classroom"] = {"domain": DOMAIN, "hub_users": True, "password_seed": SEED}
    data["trainer"] = {"username": TRAINER[0], "password": TRAINER[1]}
    sim = Simulator(scenario_from_dict(data))
    lab.sims.append(sim)
    return sim


def test_shards_are_stable_and_spread() -> None:
    assert [shard_of(name, 4) for name in NAMES] == [shard_of(name, 4) for name in NAMES]
    assert shard_of("Ada", 4) == shard_of("ada", 4)  # hub names are lower case
    spread = Counter(shard_of(f"user{n}", 4) for n in range(1000))
    assert set(spread) == {0, 1, 2, 3}
    assert min(spread.values()) > 200
    assert {shard_of(name, 1) for name in NAMES} == {0}
    with pytest.raises(ValueError, match="at least 1"):
        shard_of("ada", 0)
    # Another process (another hub replica) computes the same shards: no salted hash().
    other = subprocess.run([sys.executable, "-c", (
        "from ucwa_nb.sim.shards import shard_of; "
        f"print([shard_of(n, 4) for n in {NAMES!r}])")],
        capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "123"})
    assert other.stdout.strip() == str([shard_of(name, 4) for name in NAMES])


def test_a_class_on_two_simulators_and_the_trainers_merged_view(lab: Lab) -> None:
    shards = [_shard_sim(lab), _shard_sim(lab)]
    placed: dict[int, set[str]] = {0: set(), 1: set()}
    for name in NAMES:
        mine = shard_of(name, 2)
        username = f"{name}@{DOMAIN}"
        password = attendee_password(SEED, f"sip:{username}")
        session = lab.connect((username, password), sim=shards[mine], poll_timeout=5)
        call = session.add_phone_audio(session.conversations()[0],
                                       to="sip:john@contoso.com").wait(10)
        assert call.status == "Success"
        placed[mine].add(f"sip:{username}")
    assert [bool(placed[0]), bool(placed[1])] == [True, True]  # both shards have some

    urls = {f"shard-{i}": sim.base_url + paths.TEMPLATES["activity"]
            for i, sim in enumerate(shards)}
    merged = merged_activity(urls, auth=TRAINER)
    assert merged.unreachable == {}
    assert len(merged.rows) == len(NAMES)
    for i in (0, 1):
        assert {r["user"] for r in merged.rows if r["shard"] == f"shard-{i}"} == placed[i]
    assert all(r["status"] == "Success" for r in merged.rows)
    assert "password" not in str(merged.rows).lower()

    # A shard that is down, or a wrong password, is named; the others are still merged.
    shards[1].stop()
    partial = merged_activity(urls, auth=TRAINER)
    assert {r["shard"] for r in partial.rows} == {"shard-0"}
    assert list(partial.unreachable) == ["shard-1"]
    assert "ConnectError" in partial.unreachable["shard-1"]
    refused = merged_activity([urls["shard-0"]], auth=(TRAINER[0], "wrong"))
    assert refused.rows == []
    assert refused.unreachable == {urls["shard-0"]: "HTTP 401"}
    assert repr(refused).endswith(f"unreachable: {urls['shard-0']}>")


def test_on_a_hub_the_trainer_merges_with_a_hub_token(lab: Lab) -> None:
    data = fast_scenario_dict()
    shards = {}
    for i in range(2):
        sim = Simulator(scenario_from_dict(data), root_path=PREFIX,
                        trainer_gate=HubTrainerGate(FakeHubOAuth()))
        lab.sims.append(sim)
        shards[f"ucwa-nb-{i}"] = sim.base_url + PREFIX + paths.TEMPLATES["activity"]
    merged = merged_activity(shards, headers={"Authorization": "token token-trainer"})
    assert merged.unreachable == {}
    # An attendee's token is refused (403); no token at all is sent to the hub's login.
    student = merged_activity(shards, headers={"Authorization": "token token-alice"})
    assert set(student.unreachable.values()) == {"HTTP 403"}
    unknown = merged_activity(shards, headers={"Authorization": "token nonsense"})
    assert set(unknown.unreachable.values()) == {"HTTP 403"}
    anonymous = merged_activity(shards)
    assert set(anonymous.unreachable.values()) == {"HTTP 302 (not signed in: a login page)"}
    # The browser's way still works: a cookie.
    with httpx.Client(cookies={"service-ucwa-nb": "token-trainer"}) as http:
        assert http.get(shards["ucwa-nb-0"]).status_code == 200
