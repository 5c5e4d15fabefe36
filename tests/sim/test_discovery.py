"""The discovery host and the root's and user's links (sim/routes/signin.py): ``GET /``
answers the root (CreateAnApplication.md, step 1), and ``[server] absolute_links`` writes the
root's and user's hrefs absolute, as CreateAnApplication.md's trace shows them, instead of
relative, as root_ref.md's sample does (the default). Both dialects; the Python client signs
in either way."""

from __future__ import annotations

import httpx
import pytest
from support import ALICE, JOHN, MakeSim

import ucwa_nb
from ucwa_nb.protocol.representation import Format, Resource, parse
from ucwa_nb.sim import paths

FORMATS: dict[Format, str] = {"json": "application/json", "xml": "application/xml"}


def _get(url: str, fmt: Format, token: str | None = None) -> Resource:
    headers = {"Accept": FORMATS[fmt]}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    answer = httpx.get(url, headers=headers)
    assert answer.status_code == 200, answer.text
    resource = parse(answer.content, answer.headers["content-type"])
    assert isinstance(resource, Resource)
    return resource


def _hrefs(resource: Resource) -> dict[str, str]:
    return {rel: links[0].href for rel, links in resource.links.items()}


def _token(base_url: str) -> str:
    answer = httpx.post(base_url + paths.TOKEN, data={
        "grant_type": "password", "username": ALICE[0], "password": ALICE[1]})
    token: str = answer.json()["access_token"]
    return token


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_discovery_hosts_root_path_answers_the_root(make_sim: MakeSim, fmt: Format) -> None:
    sim = make_sim()
    at_root_path = _get(sim.url, fmt)
    on_discovery_host = _get(sim.base_url + "/", fmt)
    assert on_discovery_host == at_root_path
    assert on_discovery_host.rel == "root"
    # Its self link names the root's own path, as the page's trace shows.
    assert on_discovery_host.href == paths.ROOT


@pytest.mark.parametrize("fmt", FORMATS)
def test_links_are_relative_by_default_as_root_refs_sample(make_sim: MakeSim,
                                                           fmt: Format) -> None:
    sim = make_sim()
    assert sim.scenario.server.absolute_links is False
    root = _get(sim.url, fmt)
    user = _get(sim.base_url + paths.USER, fmt, _token(sim.base_url))
    assert (root.href, user.href) == (paths.ROOT, paths.USER)
    assert _hrefs(root) == {"user": paths.USER, "xframe": paths.XFRAME}
    assert _hrefs(user) == {"applications": paths.APPLICATIONS, "xframe": paths.XFRAME}


@pytest.mark.parametrize("fmt", FORMATS)
def test_absolute_links_as_create_an_applications_trace(make_sim: MakeSim, fmt: Format) -> None:
    sim = make_sim(absolute_links=True)
    base = sim.base_url
    root = _get(base + "/", fmt)
    user = _get(base + paths.USER, fmt, _token(base))
    assert (root.href, user.href) == (base + paths.ROOT, base + paths.USER)
    assert _hrefs(root) == {"user": base + paths.USER, "xframe": base + paths.XFRAME}
    assert _hrefs(user) == {"applications": base + paths.APPLICATIONS,
                            "xframe": base + paths.XFRAME}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute"])
def test_the_client_signs_in_and_calls_either_way(make_sim: MakeSim, fmt: Format,
                                                  absolute: bool) -> None:
    sim = make_sim(absolute_links=absolute)
    # From the discovery host's "/" as CreateAnApplication.md starts.
    session = ucwa_nb.connect(sim.base_url + "/", username=ALICE[0], password=ALICE[1],
                              format=fmt, poll_timeout=1)
    try:
        call = session.start_phone_audio(JOHN).wait(timeout=10)
        assert call.status == "Success"
        # The application's own resources stay relative, as in every trace.
        assert (session.application_url or "").startswith(sim.base_url + paths.APPLICATIONS)
    finally:
        session.close()


def test_under_a_prefix_the_discovery_host_and_absolute_links_carry_it(
        make_sim: MakeSim) -> None:
    sim = make_sim(root_path="/services/ucwa-nb", absolute_links=True)
    base = sim.base_url + "/services/ucwa-nb"
    root = _get(base + "/", "json")
    assert _hrefs(root)["user"] == base + paths.USER
    assert httpx.get(base + paths.DISCOVERY_XFRAME).status_code == 200
    # Outside the prefix nothing answers, the discovery path included.
    assert httpx.get(sim.base_url + "/").status_code == 404
