"""The client's local check passes a phone number or callee URI exactly when the simulator
accepts it: one rule (the fields of ucwa_nb.protocol.operations, on protocol.rules), checked
over generated numbers in both spacing modes, in process through the simulator's own input
function, then with a few real POSTs.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import (
    ALICE,
    JOHN,
    MakeSession,
    MakeSim,
    fast_scenario,
    wait_for_parked_poll,
)

import ucwa_nb
from ucwa_nb import Scenario, Session
from ucwa_nb.client.operations import ADD_PHONE_AUDIO
from ucwa_nb.protocol.operations import ADD_PHONE_AUDIO as ADD_PHONE_AUDIO_SPEC
from ucwa_nb.protocol.operations import CheckContext
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.rules import phone_audio
from ucwa_nb.sim.rules.operation_input import judge_input
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.state import ApplicationState, TokenState

# The issue's two numbers: the server answered 201 while the local check said "is not a
# phone number".
ISSUE_NUMBERS = ["tel:+44 20 7946 0958", "tel : +14255551234"]

_SCHEMES = ["", "tel:", "tel :", "tel: ", " tel : ", "TEL:", "Tel :", "sip:", "tel;"]
_SEPARATORS = ["", " ", "  ", "-", ".", "/", "\t"]
_SUFFIXES = ["", ";ext=12", " ", "x12", "#"]


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    """Numbers as people type them: a scheme with or without spaces, a country code or not,
    groups of digits with separators, sometimes brackets, a tel: parameter or junk."""
    if draw(st.integers(0, 9)) == 0:  # now and then anything at all
        return draw(st.text(max_size=20))
    groups = draw(st.lists(st.text("0123456789", min_size=1, max_size=5),
                           min_size=1, max_size=5))
    separator = draw(st.sampled_from(_SEPARATORS))
    digits = separator.join(groups)
    if draw(st.booleans()) and len(groups) > 1:
        digits = f"({groups[0]}){separator}{separator.join(groups[1:])}"
    plus = draw(st.sampled_from(["", "+", "+ "]))
    return (draw(st.sampled_from(_SCHEMES)) + plus + digits
            + draw(st.sampled_from(_SUFFIXES)))


@st.composite
def callee_uris(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["sip:", "sip :", "sip: ", " sip : ", "SIP:", "tel:", ""]))
    user = draw(st.sampled_from(["john", "john.doe", "J", "jo hn", ""]))
    host = draw(st.sampled_from(["contoso.com", "Contoso.COM", "contoso", "-x.com", ""]))
    return scheme + user + draw(st.sampled_from(["@", " @ ", ""])) + host


@st.composite
def callee_numbers(draw: st.DrawFn) -> str:
    """A callee given as a number, in the forms CoreCapabilities.md's "URI including phone
    number" takes (tel:, sip:...;user=phone), with the numbers people type."""
    number = draw(phone_numbers())
    for scheme in ("tel:", "tel :", "TEL:", "sip:"):
        number = number.removeprefix(scheme)
    form = draw(st.sampled_from(["tel", "sip-user-phone", "sip-no-param", "sip-params"]))
    if form == "tel":
        return draw(st.sampled_from(["tel:", "tel : ", "Tel:"])) + number
    params = {"sip-user-phone": ";user=phone", "sip-no-param": "",
              "sip-params": ";transport=tls;USER=phone"}[form]
    return f"sip:{number}@contoso.com{params}"


class InProcessServer:
    """The simulator's World, with Alice's application ready to take a POST (a live event
    channel), asked through what the HTTP handler of addPhoneAudio calls before it starts a
    call: ``judge_input`` (the fields' checks) and ``phone_audio.call_input`` (the number to
    ring, normalised)."""

    def __init__(self, scenario: Scenario) -> None:
        self.world = World(scenario, now=lambda: 0.0)
        token = self.world.issue_token(*ALICE)
        assert token is not None
        self.token: TokenState = token
        self.app: ApplicationState = self.world.create_application(
            token, {"userAgent": "t", "endpointId": "e", "culture": "en-US"})[0]
        self.app.channel.ever_polled = True  # polled at time 0, which is always "now"
        self.region = self.app.user.spec.region

    def accepts(self, props: dict[str, Any]) -> bool:
        try:
            context = CheckContext(self.region, self.world.settings.lenient_uri_spacing)
            values = judge_input(ADD_PHONE_AUDIO_SPEC, props, context)
            phone_audio.call_input(self.world, self.app, values)
        except SimError as exc:
            refusal = exc
        else:
            return True
        assert refusal.status == 400, refusal  # a refusal of the input, nothing else
        return False


@pytest.fixture(scope="module", params=[True, False], ids=["lenient", "strict"])
def server(request: pytest.FixtureRequest) -> InProcessServer:
    return InProcessServer(fast_scenario(lenient_uri_spacing=request.param))


def _local_ok(server: InProcessServer, *, to: str = JOHN, phone: str | None = None) -> bool:
    lenient = server.world.settings.lenient_uri_spacing
    return ADD_PHONE_AUDIO.problems({"to": to, "phone_number": phone},
                                    CheckContext(server.region, lenient)) == {}


@settings(max_examples=300, deadline=None)
@given(number=phone_numbers())
def test_a_number_passes_locally_exactly_when_the_simulator_accepts_it(
        server: InProcessServer, number: str) -> None:
    sent = {"to": JOHN, "phoneNumber": number}
    assert _local_ok(server, phone=number) == server.accepts(sent), number


@settings(max_examples=200, deadline=None)
@given(to=callee_uris())
def test_a_callee_passes_locally_exactly_when_the_simulator_accepts_it(
        server: InProcessServer, to: str) -> None:
    assert _local_ok(server, to=to) == server.accepts({"to": to}), to


@settings(max_examples=200, deadline=None)
@given(to=callee_numbers())
def test_a_callee_number_passes_locally_exactly_when_the_simulator_accepts_it(
        server: InProcessServer, to: str) -> None:
    assert _local_ok(server, to=to) == server.accepts({"to": to}), to


def test_the_callee_generator_reaches_both_answers(server: InProcessServer) -> None:
    answers = {server.accepts({"to": to}) for to in
               ["tel:+14255550100", "sip:4255550100@contoso.com;user=phone", "tel:555"]}
    assert answers == {True, False}


@pytest.mark.parametrize("to", ["tel:+14255550100", "tel:4255550100",
                                "sip:+14255550100@contoso.com;user=phone", "tel:555",
                                "sip:555@contoso.com;user=phone", "+14255550100"])
def test_a_real_post_of_a_callee_number_agrees_with_the_local_check(
        make_sim: MakeSim, make_session: MakeSession, to: str) -> None:
    sim = make_sim()
    session: Session = make_session(sim)
    wait_for_parked_poll(sim)
    prepared = session.prepare_start_phone_audio(to)
    locally_valid = "to" not in prepared.problems
    try:
        call = prepared.send()
    except ucwa_nb.UcwaError as exc:
        refusal: ucwa_nb.UcwaError | None = exc
    else:
        refusal = None
        assert call.http_status == 201
    if refusal is not None:
        assert refusal.status == 400, refusal
        assert refusal.subcode in ("NormalizationFailed", "ParameterValidationFailure")
    assert locally_valid == (refusal is None), (to, prepared.problems)


def test_the_issue_numbers_pass_where_the_server_takes_them(server: InProcessServer) -> None:
    lenient = server.world.settings.lenient_uri_spacing
    for number in ISSUE_NUMBERS:
        assert server.accepts({"to": JOHN, "phoneNumber": number}) is lenient
        assert _local_ok(server, phone=number) is lenient


def test_the_generator_reaches_both_answers(server: InProcessServer) -> None:
    # A property over values that all fail (or all pass) would say nothing.
    answers = {server.accepts({"to": JOHN, "phoneNumber": n})
               for n in ["tel:+1-425-555-1234", "tel:+(1) 425", "555", "tel : +14255551234"]}
    assert answers == {True, False}


# ---------------------------------------------------------------------- real POSTs


@pytest.mark.parametrize("number", [*ISSUE_NUMBERS, "tel:+1 (425) 555-1234", "555",
                                    "tel:+1425555", "4255551234"])
@pytest.mark.parametrize("lenient", [True, False], ids=["lenient", "strict"])
def test_a_real_post_agrees_with_the_local_check(
        make_sim: MakeSim, make_session: MakeSession, number: str, lenient: bool) -> None:
    sim = make_sim(lenient_uri_spacing=lenient)
    session: Session = make_session(sim)
    session.lenient_uri_spacing = lenient
    wait_for_parked_poll(sim)
    prepared = session.prepare_start_phone_audio(JOHN, phone_number=number)
    locally_valid = "phoneNumber" not in prepared.problems
    try:
        call = prepared.send()  # sent whatever the local check said
    except ucwa_nb.UcwaError as exc:
        refusal: ucwa_nb.UcwaError | None = exc
    else:
        refusal = None
        assert call.http_status == 201
        assert call.location is not None
    if refusal is not None:
        assert (refusal.status, refusal.subcode) == (400, "NormalizationFailed"), refusal
    accepted = refusal is None
    assert locally_valid == accepted, (number, prepared.problems)


def test_add_phone_audio_takes_the_spaced_number_of_the_issue(session: Session) -> None:
    conversation = session.conversations()[0]
    assert ADD_PHONE_AUDIO.problems({"to": JOHN, "phone_number": ISSUE_NUMBERS[0]}) == {}
    call = session.add_phone_audio(conversation, to=JOHN, phone_number=ISSUE_NUMBERS[0])
    assert call.http_status == 201
