"""Every error row of the two seed pages, produced on purpose, plus the generic and OAuth ones.

Rows (addPhoneAudio / continuePhoneAudio): 400 NormalizationFailed, 500 CallbackChannelError,
409 AlreadyExists, 409 TooManyGroups, 409 Conflict (no subcode), 410 CannotRedirect; generic:
400 ParameterValidationFailure, 403 Forbidden (no Conversations.Initiate scope).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support import Lab, fast_scenario, fast_scenario_dict
from support.ucwa_http import (
    Format,
    Session,
    discover_token_url,
    events_of,
    new_client,
    reason_of,
    with_params,
)

from ucwa_nb import Simulator
from ucwa_nb.protocol import Reason
from ucwa_nb.sim.scenario_loader import scenario_from_dict

FORMATS: list[Format] = ["json", "xml"]
OPERATIONS = ["addPhoneAudio", "continuePhoneAudio"]
JOHN = "sip:john@contoso.com"


def _operation_href(session: Session, rel: str) -> str:
    if rel == "addPhoneAudio":
        return session.href(session.phone_audio("Project sync"), rel)
    return session.href(session.conversation_log("Weekly one-to-one"), rel)


def _operate(session: Session, rel: str, props: dict[str, Any] | None = None,
             fmt: Format | None = None) -> httpx.Response:
    body = dict(props or {})
    if rel == "addPhoneAudio":
        body.setdefault("to", JOHN)
    return session.post(_operation_href(session, rel), body, fmt=fmt)


def _expect(response: httpx.Response, status: int, code: str, subcode: str | None,
            fmt: Format = "json") -> Reason:
    assert response.status_code == status, response.text
    media = "application/json" if fmt == "json" else "application/vnd.microsoft.com.ucwa+xml"
    assert response.headers["content-type"].split(";")[0] == media
    if fmt == "xml":
        assert b'<reason xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">' in \
            response.content
        assert f"<code>{code}</code>".encode() in response.content
    else:
        data = response.json()
        assert data["code"] == code
        if subcode is None:
            assert "subcode" not in data
    reason = reason_of(response)
    assert (reason.code, reason.subcode) == (code, subcode)
    assert reason.message
    assert "Traceback" not in response.text
    return reason


# ------------------------------------------------------------------------- 400 NormalizationFailed


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("rel", OPERATIONS)
def test_normalization_failed(lab: Lab, shared_sim: Simulator, rel: str, fmt: Format) -> None:
    session = lab.sign_in(shared_sim, fmt=fmt)
    _expect(_operate(session, rel, {"phoneNumber": "555"}), 400, "BadRequest",
            "NormalizationFailed", fmt)


@pytest.mark.parametrize("number", ["555", "tel:+1", "call me", "sip:alice@contoso.com",
                                    "+1425555123456789012"])
def test_numbers_the_dial_plan_cannot_normalise(lab: Lab, shared_sim: Simulator,
                                                number: str) -> None:
    session = lab.sign_in(shared_sim)
    _expect(_operate(session, "addPhoneAudio", {"phoneNumber": number}), 400, "BadRequest",
            "NormalizationFailed")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("to", ["tel:555", "tel:+1", "sip:555@contoso.com;user=phone",
                                "tel:call-me"])
def test_a_callee_number_the_dial_plan_cannot_normalise(lab: Lab, shared_sim: Simulator,
                                                        to: str, fmt: Format) -> None:
    # add/startPhoneAudio_ref: 400 NormalizationFailed "The phone normalization failed".
    session = lab.sign_in(shared_sim, fmt=fmt)
    reason = _expect(_operate(session, "addPhoneAudio", {"to": to}, fmt), 400, "BadRequest",
                     "NormalizationFailed", fmt)
    assert "to" in (reason.message or "")


# ------------------------------------------------------------------------- 500 CallbackChannelError


@pytest.mark.parametrize("rel", OPERATIONS)
def test_callback_channel_error_before_the_first_poll(lab: Lab, sim: Simulator,
                                                      rel: str) -> None:
    session = lab.sign_in(sim, collect=False)
    _expect(_operate(session, rel), 500, "ServiceFailure", "CallbackChannelError")
    # Once the application polls, the same request succeeds.
    session.collect(sim)
    assert _operate(session, rel).status_code == 201


def test_callback_channel_error_after_not_polling_for_the_grace(lab: Lab) -> None:
    sim = lab.start(callback_grace=0.3, application_expiry=5.0)
    session = lab.sign_in(sim, collect=False)
    href = _operation_href(session, "addPhoneAudio")
    # One poll, answered at once by its timeout: the channel is live for the grace window.
    batch = events_of(session.get(with_params(session.events_href, timeout=0.2)))
    assert batch.href("next") is not None
    sim.call(lambda: sim.world.clock.advance(0.5))  # the world's time, not a sleep
    response = session.post(href, {"to": JOHN})
    _expect(response, 500, "ServiceFailure", "CallbackChannelError")
    # The application itself still exists (it has not expired).
    assert session.get(session.app_href).status_code == 200


def test_callback_channel_error_in_xml(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim, fmt="xml", collect=False)
    _expect(_operate(session, "continuePhoneAudio"), 500, "ServiceFailure",
            "CallbackChannelError", "xml")


# ------------------------------------------------------------------------- 409 AlreadyExists


def test_already_exists_while_connecting(lab: Lab) -> None:
    sim = lab.start(fast_scenario(own_after=5.0))  # the call stays Connecting
    session = lab.sign_in(sim)
    href = _operation_href(session, "addPhoneAudio")
    assert session.post(href, {"to": JOHN}).status_code == 201
    # The link is gone while the call is under way; a client that kept it gets 409.
    assert session.phone_audio("Project sync").link("addPhoneAudio") is None
    _expect(session.post(href, {"to": JOHN}), 409, "Conflict", "AlreadyExists")
    _expect(session.post(href, {"to": JOHN}, fmt="xml"), 409, "Conflict", "AlreadyExists")


def test_already_exists_while_connected(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    assert session.collector is not None
    href = _operation_href(session, "addPhoneAudio")
    assert session.post(href, {"operationId": "first", "to": JOHN}).status_code == 201
    assert session.collector.wait_completed("first").status == "Success"
    _expect(session.post(href, {"operationId": "second", "to": JOHN}), 409, "Conflict",
            "AlreadyExists")
    assert session.collector.for_operation("second") == []


def test_continue_phone_audio_already_exists_while_the_log_has_a_call(lab: Lab) -> None:
    sim = lab.start(fast_scenario(own_after=5.0))
    session = lab.sign_in(sim)
    href = _operation_href(session, "continuePhoneAudio")
    assert session.post(href, {}).status_code == 201
    assert session.conversation_log("Weekly one-to-one").link("continuePhoneAudio") is None
    _expect(session.post(href, {}), 409, "Conflict", "AlreadyExists")
    # Another log is not affected.
    other = session.href(session.conversation_log("Supplier call"), "continuePhoneAudio")
    assert session.post(other, {}).status_code == 201


# ------------------------------------------------------------------------- injected faults


FAULT_ROWS = [
    ("TooManyGroups", 409, "Conflict", "TooManyGroups"),
    ("Conflict", 409, "Conflict", None),
    ("CannotRedirect", 410, "Gone", "CannotRedirect"),
    ("AlreadyExists", 409, "Conflict", "AlreadyExists"),
    ("CallbackChannelError", 500, "ServiceFailure", "CallbackChannelError"),
]


# Each operation once, one in each format (the error body follows Accept either way).
OPERATION_FORMATS = [("addPhoneAudio", "json"), ("continuePhoneAudio", "xml")]


@pytest.mark.parametrize(("rel", "fmt"), OPERATION_FORMATS)
@pytest.mark.parametrize(("error", "status", "code", "subcode"), FAULT_ROWS,
                         ids=[row[0] for row in FAULT_ROWS])
def test_injected_fault(lab: Lab, sim: Simulator, rel: str, fmt: Format, error: str,
                        status: int, code: str, subcode: str | None) -> None:
    session = lab.sign_in(sim, fmt=fmt)
    href = _operation_href(session, rel)
    body = {"to": JOHN} if rel == "addPhoneAudio" else {}
    sim.inject_fault(rel, error)
    response = session.post(href, body)
    _expect(response, status, code, subcode, fmt)
    if fmt == "xml" and subcode is None:
        assert b"<subcode>" not in response.content
    # count=1: the next request goes through.
    assert session.post(href, body).status_code == 201


def test_fault_for_one_user_only(lab: Lab, sim: Simulator) -> None:
    alice = lab.sign_in(sim)
    bob = lab.sign_in(sim, "bob@contoso.com")
    sim.inject_fault("addPhoneAudio", "CannotRedirect", user="sip:bob@contoso.com")
    assert alice.add_phone_audio("Project sync", {"to": JOHN}).status_code == 201
    _expect(bob.add_phone_audio("Hand-over", {"to": JOHN}), 410, "Gone", "CannotRedirect")


def test_fault_counts_and_clearing(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    href = _operation_href(session, "continuePhoneAudio")
    sim.inject_fault("continuePhoneAudio", "TooManyGroups", count=2)
    for _ in range(2):
        _expect(session.post(href, {}), 409, "Conflict", "TooManyGroups")
    # A fault on another rel does not touch this one.
    sim.inject_fault("addPhoneAudio", "Conflict", count=0)
    assert session.post(href, {}).status_code == 201
    add = _operation_href(session, "addPhoneAudio")
    for _ in range(3):  # count 0: until cleared
        _expect(session.post(add, {"to": JOHN}), 409, "Conflict", None)
    sim.clear_faults()
    assert session.post(add, {"to": JOHN}).status_code == 201


def test_injected_faults_are_marked_and_unknown_ones_refused(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    sim.inject_fault("addPhoneAudio", "TooManyGroups")
    response = _operate(session, "addPhoneAudio")
    assert response.status_code == 409
    assert response.headers.get("x-ucwa-nb-injected-fault") == "true"
    with pytest.raises(ValueError, match="Teapot"):
        sim.inject_fault("addPhoneAudio", "Teapot")


def test_faults_from_the_scenario_file(lab: Lab) -> None:
    data = fast_scenario_dict()
    data["faults"] = [
        {"rel": "continuePhoneAudio", "error": "CannotRedirect"},
        {"rel": "addPhoneAudio", "error": "TooManyGroups", "user": "sip:alice@contoso.com",
         "count": 2},
    ]
    sim = lab.start(scenario_from_dict(data))
    alice = lab.sign_in(sim)
    bob = lab.sign_in(sim, "bob@contoso.com")
    _expect(bob.continue_phone_audio("Earlier call", {}), 410, "Gone", "CannotRedirect")
    assert bob.continue_phone_audio("Earlier call", {}).status_code == 201
    assert bob.add_phone_audio("Hand-over", {"to": JOHN}).status_code == 201
    for _ in range(2):
        _expect(_operate(alice, "addPhoneAudio"), 409, "Conflict", "TooManyGroups")
    assert _operate(alice, "addPhoneAudio").status_code == 201


# ------------------------------------------------------------------------- 400 ParameterValidation


PVF_CASES: list[tuple[str, str, dict[str, Any], set[str]]] = [
    ("missing-to", "addPhoneAudio", {"operationId": "x"}, {"to"}),
    ("empty-to", "addPhoneAudio", {"to": "  "}, {"to"}),
    ("to-not-a-uri", "addPhoneAudio", {"to": "+14255551234"}, {"to"}),
    ("operation-id-51", "addPhoneAudio", {"to": JOHN, "operationId": "x" * 51},
     {"operationId"}),
    ("operation-id-51-continue", "continuePhoneAudio", {"operationId": "y" * 51},
     {"operationId"}),
    ("to-number", "addPhoneAudio", {"to": 123}, {"to"}),
    ("phone-bool", "addPhoneAudio", {"to": JOHN, "phoneNumber": True}, {"phoneNumber"}),
    ("operation-id-number", "continuePhoneAudio", {"operationId": 5}, {"operationId"}),
    ("phone-list", "continuePhoneAudio", {"phoneNumber": ["+14255551234"]}, {"phoneNumber"}),
    ("to-object", "addPhoneAudio", {"to": {"uri": JOHN}}, {"to"}),
    ("several", "addPhoneAudio", {"operationId": "z" * 60, "phoneNumber": 1}, {
        "operationId", "phoneNumber", "to"}),
]


@pytest.mark.parametrize(("rel", "props", "names"), [case[1:] for case in PVF_CASES],
                         ids=[case[0] for case in PVF_CASES])
def test_parameter_validation_failure_names_the_bad_fields(
        lab: Lab, shared_sim: Simulator, rel: str, props: dict[str, Any],
        names: set[str]) -> None:
    session = lab.sign_in(shared_sim)
    response = session.post(_operation_href(session, rel), props)
    reason = _expect(response, 400, "BadRequest", "ParameterValidationFailure")
    assert set(reason.parameters) == names
    assert all(isinstance(text, str) and text for text in reason.parameters.values())


def test_parameter_validation_failure_in_xml(lab: Lab, shared_sim: Simulator) -> None:
    session = lab.sign_in(shared_sim, fmt="xml")
    response = session.post(_operation_href(session, "addPhoneAudio"),
                            {"operationId": "x" * 51})
    reason = _expect(response, 400, "BadRequest", "ParameterValidationFailure", "xml")
    assert set(reason.parameters) == {"operationId", "to"}
    assert b'<property name="to">' in response.content


def test_an_operation_id_of_exactly_50_characters_is_accepted(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    operation_id = "o" * 50
    response = _operate(session, "addPhoneAudio", {"operationId": operation_id})
    assert response.status_code == 201
    assert session.resource(response.headers["location"]).get("operationId") == operation_id


# ------------------------------------------------------------------------- 403 Forbidden


# add/continuePhoneAudio_ref (the current generation's scope table): "The user must have at
# least one of these scopes for operations on the resource to be allowed." The scopes are
# Conversations.Initiate and Conversations.Receive.


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("rel", OPERATIONS)
def test_forbidden_with_neither_call_scope(lab: Lab, shared_sim: Simulator, rel: str,
                                           fmt: Format) -> None:
    guest = lab.sign_in(shared_sim, "guest@contoso.com", fmt=fmt)  # User.ReadWrite only
    offering = guest.phone_audio("Observer") if rel == "addPhoneAudio" else \
        guest.conversation_log("Observed call")
    # No link to what would be refused (Hypermedia.md: a link means "possible now") ...
    assert offering.link(rel) is None, offering.links
    # ... and the request sent anyway, to where Alice's link leads, is refused.
    assert offering.href is not None
    href = f"{offering.href}/{rel}"
    body = {"to": JOHN} if rel == "addPhoneAudio" else {}
    reason = _expect(guest.post(href, body), 403, "Forbidden", None, fmt)
    assert "Conversations.Initiate" in (reason.message or "")
    assert "Conversations.Receive" in (reason.message or "")
    # Reading is still allowed.
    assert guest.get(offering.href).status_code == 200


@pytest.mark.parametrize("scope", ["Conversations.Initiate", "Conversations.Receive"])
def test_either_call_scope_is_enough(lab: Lab, scope: str) -> None:
    data = fast_scenario_dict()
    alice = next(u for u in data["users"] if u["uri"] == "sip:alice@contoso.com")
    alice["scopes"] = [scope]
    session = lab.sign_in(lab.start(scenario_from_dict(data)))
    conversation = next(c for c in session.conversations()
                        if c.get("subject") == "Project sync")
    phone_audio = session.follow(conversation, "phoneAudio")
    response = session.post(session.href(phone_audio, "addPhoneAudio"),
                            {"operationId": "scoped", "to": JOHN})
    assert response.status_code == 201, response.text


# ------------------------------------------------------------------------- negotiation


def test_error_format_follows_accept_then_content_type(lab: Lab, shared_sim: Simulator) -> None:
    session = lab.sign_in(shared_sim)
    href = _operation_href(session, "addPhoneAudio")
    # XML body, JSON accepted: the error comes in JSON.
    response = session.post(href, {"operationId": "x" * 51}, fmt="xml")
    _expect(response, 400, "BadRequest", "ParameterValidationFailure", "json")
    # No Accept at all: the error comes in the request's own format.
    response = session.post(href, {"operationId": "x" * 51}, fmt="xml",
                            headers={"Accept": ""})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/xml")
    assert reason_of(response).subcode == "ParameterValidationFailure"


# ------------------------------------------------------------------------- OAuth errors


def _token(sim: Simulator, data: dict[str, str] | None = None,
           **kwargs: Any) -> httpx.Response:
    _, token_url = discover_token_url(sim)
    with new_client() as client:
        return client.post(token_url, data=data, **kwargs)


@pytest.mark.parametrize(("form", "error", "diagnostic"), [
    ({"grant_type": "client_credentials"}, "unsupported_grant_type", "28029"),
    ({"grant_type": "urn:microsoft.rtc:passive"}, "unsupported_grant_type", "28029"),
    ({"username": "alice@contoso.com", "password": "ucwa-demo"}, "invalid_request", "28033"),
    ({}, "invalid_request", "28032"),
    # (the Windows grant answers with a Negotiate/NTLM challenge: test_windows_signin.py)
    ({"grant_type": "urn:microsoft.rtc:anonmeeting"}, "invalid_grant", "28020"),
    ({"grant_type": "password", "username": "alice@contoso.com", "password": "wrong"},
     "invalid_grant", "28020"),
    ({"grant_type": "password", "username": "nobody@contoso.com", "password": "ucwa-demo"},
     "invalid_grant", "28020"),
    ({"grant_type": "password", "username": "alice@contoso.com"}, "invalid_request", "28033"),
    ({"grant_type": "password", "username": "alice@contoso.com", "password": "ucwa-demo",
      "scope": "everything"}, "invalid_scope", "28031"),
], ids=["client-credentials", "passive", "no-grant", "empty-body", "anonmeeting", "bad-password",
        "unknown-user", "no-password", "bad-scope"])
def test_oauth_errors(shared_sim: Simulator, form: dict[str, str], error: str,
                      diagnostic: str) -> None:
    response = _token(shared_sim, form)
    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert response.headers["x-ms-diagnostics"].startswith(f"{diagnostic};")
    assert 'source="' in response.headers["x-ms-diagnostics"]


def test_token_request_must_be_form_encoded(shared_sim: Simulator) -> None:
    response = _token(shared_sim, json={"grant_type": "password", "username": "a",
                                        "password": "b"})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request"}


def test_token_username_may_carry_the_sip_scheme_and_any_case(shared_sim: Simulator) -> None:
    response = _token(shared_sim, {"grant_type": "password",
                                   "username": "sip:Alice@Contoso.com", "password": "ucwa-demo"})
    assert response.status_code == 200
    assert response.json()["access_token"].startswith("cwt=")
