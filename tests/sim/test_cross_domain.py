"""The web application allow list (sim/cross_domain.py): what an origin is, which requests
through the frame pass, the refusal as real servers give it (both dialects), the scenario's
``[server] allowed_origins`` and ``ucwa-nb serve --allow-origin``."""

from __future__ import annotations

import httpx
import pytest
from support import ALICE, MakeSim, fast_scenario, fast_scenario_dict

import ucwa_nb
from ucwa_nb import Simulator
from ucwa_nb.protocol.representation import Format, Reason, parse
from ucwa_nb.sim import paths
from ucwa_nb.sim.cli import main, with_allowed_origins
from ucwa_nb.sim.cross_domain import CROSS_DOMAIN_REFUSAL, normal_origin
from ucwa_nb.sim.scenario import ScenarioError
from ucwa_nb.sim.scenario_loader import scenario_from_dict

APP_ORIGIN = "https://app.contoso.com"
OTHER_ORIGIN = "https://portal.fabrikam.com"
FORMATS: dict[Format, str] = {"json": "application/json", "xml": "application/xml"}


@pytest.mark.parametrize(("text", "origin"), [
    ("https://app.contoso.com", "https://app.contoso.com"),
    ("https://App.Contoso.COM/", "https://app.contoso.com"),
    ("https://app.contoso.com:443", "https://app.contoso.com"),  # the default port
    ("http://contoso.com:80", "http://contoso.com"),
    ("http://contoso.com:8080", "http://contoso.com:8080"),  # ConfiguringATopology.md
    ("HTTP://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("http://[::1]:8000", "http://[::1]:8000"),
    ("null", None),  # a page from a file
    ("https://app.contoso.com/page.html", None),
    ("https://app.contoso.com?x=1", None),
    ("https://app.contoso.com#top", None),
    ("https://user@app.contoso.com", None),
    ("ftp://app.contoso.com", None),
    ("javascript:alert(1)", None),
    ("https://", None),
    ("https://app.contoso.com:99999", None),
    ("https://app contoso.com", None),
    ("", None),
])
def test_an_origin_is_scheme_host_and_port(text: str, origin: str | None) -> None:
    assert normal_origin(text) == origin


@pytest.fixture
def gated(make_sim: MakeSim) -> Simulator:
    return make_sim(allowed_origins=[APP_ORIGIN])


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_page_off_the_list_is_refused_as_real_servers_refuse(gated: Simulator,
                                                                fmt: Format) -> None:
    answer = httpx.get(gated.url, headers={"X-Ms-Origin": OTHER_ORIGIN,
                                           "Accept": FORMATS[fmt]})
    assert answer.status_code == 403
    # ConfiguringATopology.md: the sentence "sent by the server in the headers of a 403
    # response"; its reason in X-Ms-diagnostics, as users of real servers quote it.
    diagnostic = answer.headers["x-ms-diagnostics"]
    assert diagnostic == (f'28072;source="fe1.contoso.com";reason="{CROSS_DOMAIN_REFUSAL}"')
    assert answer.headers["content-type"].startswith(FORMATS[fmt])
    reason = parse(answer.content, answer.headers["content-type"])
    assert isinstance(reason, Reason)
    assert (reason.code, reason.subcode, reason.message) == ("Forbidden", None,
                                                              CROSS_DOMAIN_REFUSAL)
    assert answer.headers["x-ms-ucwaversion"]  # every answer names its version


@pytest.mark.parametrize("claimed", [APP_ORIGIN, "HTTPS://app.contoso.com:443"])
def test_a_page_on_the_list_passes(gated: Simulator, claimed: str) -> None:
    answer = httpx.get(gated.url, headers={"X-Ms-Origin": claimed})
    assert answer.status_code == 200


def test_the_servers_own_origin_passes_and_requests_not_through_the_frame_are_not_checked(
        gated: Simulator) -> None:
    assert httpx.get(gated.url, headers={"X-Ms-Origin": gated.base_url}).status_code == 200
    # No X-Ms-Origin: a notebook, curl, a recording's replay: the list is not theirs.
    assert httpx.get(gated.url).status_code == 200
    # The frame page itself loads for any page: the requests it sends are what is checked.
    frame = httpx.get(gated.base_url + paths.DISCOVERY_XFRAME)
    assert frame.status_code == 200


@pytest.mark.parametrize("claimed", ["null", "https://app.contoso.com/evil", "*", ""])
def test_what_is_no_origin_is_refused(gated: Simulator, claimed: str) -> None:
    assert httpx.get(gated.url, headers={"X-Ms-Origin": claimed}).status_code == 403


def test_two_origins_in_one_request_pass_only_if_both_would(gated: Simulator) -> None:
    both = [("X-Ms-Origin", APP_ORIGIN), ("X-Ms-Origin", OTHER_ORIGIN)]
    assert httpx.get(gated.url, headers=both).status_code == 403


def test_an_empty_list_lets_only_the_servers_own_origin_through(sim: Simulator) -> None:
    assert sim.scenario.server.allowed_origins == ()
    assert httpx.get(sim.url, headers={"X-Ms-Origin": APP_ORIGIN}).status_code == 403
    assert httpx.get(sim.url, headers={"X-Ms-Origin": sim.base_url}).status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_step_of_a_browser_sign_in_is_checked(gated: Simulator, fmt: Format) -> None:
    """The token endpoint and the application's resources refuse too, before anything is
    read or changed: a refused page signs nobody in and creates nothing."""
    session = ucwa_nb.connect(gated.url, username=ALICE[0], password=ALICE[1],
                              format=fmt, poll_timeout=1)
    try:
        refused = {"X-Ms-Origin": OTHER_ORIGIN, "Accept": FORMATS[fmt]}
        token = httpx.post(f"{gated.base_url}{paths.TOKEN}", headers=refused,
                           data={"grant_type": "password", "username": ALICE[0],
                                 "password": ALICE[1]})
        assert token.status_code == 403
        assert "access_token" not in token.text
        applications = session.http_client.post(
            session.applications_url or "", headers=refused,
            json={"userAgent": "page", "endpointId": "e-refused", "culture": "en-US"})
        assert applications.status_code == 403
        assert session.http_client.get(session.application_url or "",
                                       headers=refused).status_code == 403
        assert session.http_client.get(session.application_url or "", headers={
            "X-Ms-Origin": APP_ORIGIN}).status_code == 200
    finally:
        session.close()


def test_the_scenario_names_the_list_normalised() -> None:
    scenario = scenario_from_dict(fast_scenario_dict(allowed_origins=[
        "https://App.contoso.com:443", "http://127.0.0.1:5000", "https://app.contoso.com"]))
    assert scenario.server.allowed_origins == ("https://app.contoso.com",
                                               "http://127.0.0.1:5000")


@pytest.mark.parametrize(("value", "message"), [
    ("https://app.contoso.com", "must be a list"),
    (["https://app.contoso.com/path"], r"allowed_origins\[0\] must be an http\(s\) origin"),
    ([42], r"allowed_origins\[0\]"),
    (["https://ok.contoso.com", "null"], r"allowed_origins\[1\]"),
])
def test_a_bad_list_is_a_scenario_error_naming_the_key(value: object, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(fast_scenario_dict(allowed_origins=value))


def test_serve_adds_allow_origin_to_the_scenarios_list() -> None:
    scenario = fast_scenario(allowed_origins=[APP_ORIGIN])
    served = with_allowed_origins(scenario, ["http://127.0.0.1:5000", "https://APP.contoso.com"])
    assert served.server.allowed_origins == (APP_ORIGIN, "http://127.0.0.1:5000")
    assert with_allowed_origins(scenario, []) is scenario
    with pytest.raises(ScenarioError, match=r"--allow-origin 'app\.contoso\.com'"):
        with_allowed_origins(scenario, ["app.contoso.com"])


def test_serve_refuses_a_bad_allow_origin_before_it_starts(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", "--allow-origin", "https://a.example/x"]) == 2
    assert "not an http(s) origin" in capsys.readouterr().err
