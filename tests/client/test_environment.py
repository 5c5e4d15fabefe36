"""connect() configured by the environment (client/environment.py): UCWA_NB_URL and its
credentials when set, the embedded simulator otherwise, arguments first."""

from __future__ import annotations

import pytest
from support import ALICE, GUEST

import ucwa_nb
from ucwa_nb import Simulator
from ucwa_nb.client.environment import target
from ucwa_nb.widgets import AddPhoneAudioForm

BOB = ("bob@contoso.com", "ucwa-demo-bob")
ENV = {"UCWA_NB_URL": "http://class.example:8080/root", "UCWA_NB_USERNAME": "bob@x",
       "UCWA_NB_PASSWORD": "from-env", "UCWA_NB_TOKEN": ""}


def test_no_environment_means_the_embedded_simulator() -> None:
    where = target(None, None, None, None, environ={})
    assert (where.url, where.username, where.source) == (None, None, "embedded")


def test_the_environment_gives_url_and_credentials() -> None:
    where = target(None, None, None, None, environ=ENV)
    assert (where.url, where.username, where.password, where.token, where.source) == (
        "http://class.example:8080/root", "bob@x", "from-env", None, "environment")


def test_a_token_from_the_environment() -> None:
    where = target(None, None, None, None,
                   environ={"UCWA_NB_URL": "contoso.com", "UCWA_NB_TOKEN": "cwt=abc"})
    assert (where.url, where.username, where.token) == ("contoso.com", None, "cwt=abc")


def test_a_url_argument_never_gets_the_environments_credentials() -> None:
    where = target("https://other.example/", None, None, None, environ=ENV)
    assert (where.url, where.username, where.password, where.source) == (
        "https://other.example/", None, None, "argument")


def test_credentials_given_as_arguments_win_whole() -> None:
    where = target(None, "alice@x", None, None, environ=ENV)
    assert (where.url, where.username, where.password) == (ENV["UCWA_NB_URL"], "alice@x", None)


def test_the_password_is_not_in_the_targets_repr() -> None:
    assert "from-env" not in repr(target(None, None, None, None, environ=ENV))


def test_connect_signs_in_where_the_environment_says(
        sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UCWA_NB_URL", sim.url)
    monkeypatch.setenv("UCWA_NB_USERNAME", BOB[0])
    monkeypatch.setenv("UCWA_NB_PASSWORD", BOB[1])
    with ucwa_nb.connect(poll_timeout=2) as session:
        assert session.simulator is None
        assert session.connected_via == "environment"
        host = f"127.0.0.1:{sim.port}"
        assert session.where == f"sip:bob@contoso.com at {host} (from UCWA_NB_URL)"
        assert repr(session).startswith(f"<Session sip:bob@contoso.com at {host} (from ")
        assert BOB[1] not in repr(session)
        form = AddPhoneAudioForm(session)
        title = form.children[0].value
        assert "sip:bob@contoso.com" in title
        assert host in title
        assert BOB[1] not in title


def test_arguments_win_over_the_environment(
        sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UCWA_NB_URL", "http://127.0.0.1:9/nowhere")
    monkeypatch.setenv("UCWA_NB_USERNAME", BOB[0])
    monkeypatch.setenv("UCWA_NB_PASSWORD", "wrong")
    with ucwa_nb.connect(sim.url, username=GUEST[0], password=GUEST[1],
                         poll_timeout=2) as session:
        assert session.connected_via == "argument"
        assert session.where.startswith("sip:guest@contoso.com at ")
        assert "UCWA_NB_URL" not in repr(session)


def test_without_the_environment_connect_uses_the_embedded_simulator(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("UCWA_NB_URL", "UCWA_NB_USERNAME", "UCWA_NB_PASSWORD", "UCWA_NB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with ucwa_nb.connect(poll_timeout=2) as session:
        assert session.simulator is not None
        assert session.connected_via == "embedded"
        assert session.where.startswith(f"sip:{ALICE[0]} at 127.0.0.1:")
