"""AddPhoneAudioForm and ContinuePhoneAudioForm, driven headless against a fast simulator.

Each test builds a form on a signed-in session, sets values, clicks, and checks what the form
shows (``.value``, ``.disabled``, ``.options``) and what the session logged (``log.df``).
"""

from __future__ import annotations

import json
import re
import shlex
import threading
import time
from typing import Any, Literal

import ipywidgets as w
import pandas as pd
import pytest
from support import GUEST, Lab, wait_until
from support import NOBODY_USER as NOBODY
from support.widgets import all_widgets, text_of, widget_strings

import ucwa_nb.widgets.forms as forms
from ucwa_nb.client.call import PhoneAudioCall
from ucwa_nb.client.session import Session
from ucwa_nb.client.trust import bearer_of
from ucwa_nb.display.timeline import call_timeline_html
from ucwa_nb.protocol.operations import CONTINUE_PHONE_AUDIO, HOLD_PHONE_AUDIO, START_PHONE_AUDIO
from ucwa_nb.protocol.representation import parse_input
from ucwa_nb.sim import Simulator
from ucwa_nb.widgets import (
    AddPhoneAudioForm,
    ContinuePhoneAudioForm,
    LogView,
    StartPhoneAudioForm,
)
from ucwa_nb.widgets._common import BAD, OK

Form = AddPhoneAudioForm | ContinuePhoneAudioForm
Kind = Literal["add", "continue"]
NEVER_ANSWERED_PHONE = "tel:+14255550199"  # default.toml [[phones]]: never picked up


def make_form(session: Session, kind: Kind) -> Form:
    return AddPhoneAudioForm(session) if kind == "add" else ContinuePhoneAudioForm(session)


def posts(session: Session, rel: str) -> pd.DataFrame:
    """The logged POSTs of one operation (addPhoneAudio or continuePhoneAudio)."""
    df = session.log.df
    return df[(df.kind == "http") & (df.method == "POST") & (df.rel == rel)]


def send_and_wait(form: Form, progress: str, timeout: float = 5.0) -> PhoneAudioCall:
    """Click Send; wait (bounded) until the progress indicator shows ``progress``."""
    form.send.click()
    assert form.call is not None, text_of(form.response.value)
    wait_until(lambda: progress in text_of(form.progress.value), timeout,
               lambda: f"progress {progress!r}; shown: {text_of(form.progress.value)!r}")
    return form.call


def preview_parts(form: Form) -> tuple[str, dict[str, str], str]:
    """The previewed request as (request line, headers, body)."""
    head, _, body = text_of(form.preview.value).partition("\n\n")
    line, *header_lines = head.splitlines()
    headers = dict(h.split(": ", 1) for h in header_lines)
    return line, headers, body


def pick(form: Form, label_start: str) -> None:
    """Select the picker option whose label starts with ``label_start``."""
    value = next(v for label, v in form.picker.options if label.startswith(label_start))
    form.picker.value = value


# --------------------------------------------------------------------------- initial state


def test_add_form_starts_ready_with_suggestions(readonly_session: Session) -> None:
    form = AddPhoneAudioForm(readonly_session)
    labels = [label for label, _ in form.picker.options]
    assert labels == ["Project sync with John Doe",
                      "Budget review with Maria Garcia, Pierre Martin",
                      "Quick question with Nora Kim"]
    assert form.picker.value is form.picker.options[0][1]
    assert form.to.options == ("sip:john@contoso.com",)
    assert form.to.value == "sip:john@contoso.com"
    assert form.phone_number.value == ""
    assert form.phone_number.placeholder == "tel:+14255551234"  # the user's default phone
    assert re.fullmatch(r"[0-9a-f]{32}", form.operation_id.value)
    assert form.format.value == "json"
    assert "ready to send" in text_of(form.messages.value)
    assert form.send.disabled is False
    assert form.response.value == form.progress.value == form.timeline.value == ""
    assert repr(form) == "AddPhoneAudioForm()"  # short and stable for nbval
    # What a notebook shows before Run All, where the widget cannot be drawn: readable text.
    assert form._repr_mimebundle_()["text/plain"].splitlines() == [
        "AddPhoneAudioForm: addPhoneAudio as sip:alice@contoso.com (run the cell to use the "
        "form)",
        "  Conversation:      Project sync with John Doe",
        "  To (SIP URI):      sip:john@contoso.com",
        "  Format:            json"]


def test_continue_form_lists_logs_with_recipients_time_and_modalities(
        readonly_session: Session) -> None:
    form = ContinuePhoneAudioForm(readonly_session)
    labels = [label for label, _ in form.picker.options]
    assert labels == [
        "Weekly one-to-one with John Doe, 2026-10-30 16:00 (Audio, Archived)",
        "Supplier call with Pierre Martin, 2026-10-29 14:20 (Audio, Missed)",
        "Design chat with Maria Garcia, 2026-10-28 10:05 (Messaging, Archived)",
    ]
    assert not hasattr(form, "to")
    assert "ready to send" in text_of(form.messages.value)
    assert form.send.disabled is False
    assert repr(form) == "ContinuePhoneAudioForm()"
    summary = form._repr_mimebundle_()["text/plain"]
    assert "Conversation log:  Weekly one-to-one with John Doe, 2026-10-30 16:00" in summary
    assert form.operation_id.value not in summary  # new for every form: not stable


def test_picking_another_conversation_suggests_its_participants(readonly_session: Session) -> None:
    form = AddPhoneAudioForm(readonly_session)
    pick(form, "Budget review")
    assert form.to.options == ("sip:maria@contoso.com", "sip:pierre@contoso.com")
    # The previous conversation's suggestion is replaced, not kept: calling John in the
    # budget review because he was suggested for another conversation would be a surprise.
    assert form.to.value == "sip:maria@contoso.com"
    form.to.value = "sip:pierre@contoso.com"  # typed (or picked) by the user: kept
    pick(form, "Quick question")
    assert form.to.options == ("sip:nora@contoso.com",)
    assert form.to.value == "sip:pierre@contoso.com"
    assert "ready to send" in text_of(form.messages.value)


# The controls a person operates (a Combobox is a Text, a Dropdown and a Select are not).
INTERACTIVE = (w.Text, w.Textarea, w.Dropdown, w.Combobox, w.Checkbox, w.ToggleButtons,
               w.Button, w.Select)


@pytest.mark.parametrize("kind", ["add", "continue"])
def test_every_control_has_a_description_or_a_tooltip(
        readonly_session: Session, kind: Kind) -> None:
    # Issue 4: a screen reader names a control by its description (the label) or, for a
    # button with only an icon, by its tooltip.
    form = make_form(readonly_session, kind)
    # Every widget reachable from the form: rows (HBox children), the snippets' Accordion...
    controls = [c for c in all_widgets(form) if isinstance(c, INTERACTIVE)]
    # ... the nested ones included (the walk reached into the rows).
    for nested in (form.refresh, form.regenerate, form.send, form.send_anyway):
        assert any(c is nested for c in controls)
    # The call controls (Hang up, Hold, Resume, Cancel) are there, hidden until a call.
    assert [b.description for b in form.call_controls.buttons.values()] == [
        "Hang up", "Hold", "Resume", "Cancel"]
    assert form.call_controls.shown == ()
    assert len(controls) == (9 if kind == "add" else 8) + 4
    unnamed = [f"{type(c).__name__} (icon {getattr(c, 'icon', '')!r})" for c in controls
               if not (c.description.strip() or (c.tooltip or "").strip())]
    assert not unnamed, f"controls without a description or a tooltip: {unnamed}"
    # Each of the format's toggle buttons is labelled by its option, and has a tooltip.
    assert all(str(option).strip() for option in form.format.options)
    assert all(tip.strip() for tip in form.format.tooltips)
    assert len(form.format.tooltips) == len(form.format.options)


# --------------------------------------------------------------------------- success


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_add_phone_audio_connects(session: Session, fmt: str) -> None:
    form = AddPhoneAudioForm(session)
    form.format.value = fmt
    op = form.operation_id.value
    call = send_and_wait(form, "connected")
    assert call.operation_id == op
    assert call.status == "Success"
    response = text_of(form.response.value)
    assert "201 Created" in response
    assert f"Location: {call.location}" in response
    assert OK in form.progress.value
    timeline = text_of(form.timeline.value)
    assert "POST addPhoneAudio" in timeline
    assert "201 Created" in timeline
    assert "started (Connecting)" in timeline
    assert "updated (Alerting)" in timeline
    assert "completed Success" in timeline
    # A fresh operationId is ready for the next call.
    assert form.operation_id.value != op
    sent = posts(session, "addPhoneAudio")
    assert len(sent) == 1
    row = sent.iloc[0]
    assert (row.status, row.format, row.operation_id) == (201, fmt, op)
    assert row.location == call.location
    wait_until(lambda: ((session.log.df.operation_id == op)
                        & (session.log.df.event_type == "completed")).any(), what="logged")
    df = session.log.df
    done = df[(df.operation_id == op) & (df.event_type == "completed")]
    assert list(done.event_status) == ["Success"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_continue_phone_audio_connects(session: Session, fmt: str) -> None:
    form = ContinuePhoneAudioForm(session)
    form.format.value = fmt
    op = form.operation_id.value
    call = send_and_wait(form, "connected")
    assert call.kind == "continuePhoneAudio"
    assert call.target == "sip:john@contoso.com"  # the log's recipient
    assert "201 Created" in text_of(form.response.value)
    timeline = text_of(form.timeline.value)
    assert "POST continuePhoneAudio" in timeline
    assert "completed Success" in timeline
    sent = posts(session, "continuePhoneAudio")
    assert list(sent.status) == [201]
    assert list(sent.format) == [fmt]
    assert list(sent.operation_id) == [op]


# --------------------------------------------------------------------------- validation


ADD_PROBLEMS = [
    pytest.param("to", "john@contoso.com", "to", id="to-without-sip"),
    pytest.param("to", "", "to", id="to-empty"),
    pytest.param("phone_number", "tel:12", "phoneNumber", id="phone-too-short"),
    pytest.param("phone_number", "call me", "phoneNumber", id="phone-letters"),
    pytest.param("operation_id", "x" * 51, "operationId", id="operationId-51-chars"),
    pytest.param("operation_id", "", "operationId", id="operationId-empty"),
]


@pytest.mark.parametrize(("field", "value", "problem"), ADD_PROBLEMS)
def test_add_validation_shown_inline_and_send_disabled(
        readonly_session: Session, field: str, value: str, problem: str) -> None:
    form = AddPhoneAudioForm(readonly_session)
    getattr(form, field).value = value
    assert f"{problem}:" in text_of(form.messages.value)
    assert "ready to send" not in text_of(form.messages.value)
    assert form.send.disabled is True
    form.send_anyway.value = True
    assert form.send.disabled is False
    form.send_anyway.value = False
    assert form.send.disabled is True
    # Clicking anyway (keyboard, a stale front end) sends nothing.
    form.send.click()
    assert "not sent" in text_of(form.response.value)
    assert posts(readonly_session, "addPhoneAudio").empty
    assert form.call is None
    # Fixing the input makes the form ready again.
    getattr(form, field).value = {"to": "sip:john@contoso.com", "phone_number": "",
                                  "operation_id": "fixed-op"}[field]
    assert "ready to send" in text_of(form.messages.value)
    assert form.send.disabled is False


@pytest.mark.parametrize(("field", "value", "problem"), [
    pytest.param("phone_number", "tel:12", "phoneNumber", id="phone"),
    pytest.param("operation_id", "y" * 60, "operationId", id="operationId"),
])
def test_continue_validation_shown_inline_and_send_disabled(
        readonly_session: Session, field: str, value: str, problem: str) -> None:
    form = ContinuePhoneAudioForm(readonly_session)
    getattr(form, field).value = value
    assert f"{problem}:" in text_of(form.messages.value)
    assert form.send.disabled is True
    form.send_anyway.value = True
    assert form.send.disabled is False


@pytest.mark.parametrize(("kind", "field", "value", "expected"), [
    pytest.param("add", "to", "john@contoso.com",
                 "400 BadRequest/ParameterValidationFailure", id="add-bad-to"),
    pytest.param("add", "phone_number", "tel:12",
                 "400 BadRequest/NormalizationFailed: The phone normalization failed",
                 id="add-bad-phone"),
    pytest.param("add", "operation_id", "x" * 51,
                 "400 BadRequest/ParameterValidationFailure", id="add-long-operationId"),
    pytest.param("continue", "phone_number", "call me",
                 "400 BadRequest/NormalizationFailed: The phone normalization failed",
                 id="continue-bad-phone"),
    pytest.param("continue", "operation_id", "x" * 51,
                 "400 BadRequest/ParameterValidationFailure", id="continue-long-operationId"),
])
def test_send_anyway_shows_the_servers_error(
        readonly_session: Session, kind: Kind, field: str, value: str, expected: str) -> None:
    form = make_form(readonly_session, kind)
    getattr(form, field).value = value
    form.send_anyway.value = True
    form.send.click()
    response = text_of(form.response.value)
    assert response.startswith("error ")
    assert expected in response
    if "ParameterValidationFailure" in expected:
        # The server names the parameter it refused.
        parameter = {"to": "to", "operation_id": "operationId"}[field]
        assert f"({parameter}: " in response
    assert BAD in form.response.value
    assert form.call is None
    assert form.progress.value == ""
    rel = "addPhoneAudio" if kind == "add" else "continuePhoneAudio"
    sent = posts(readonly_session, rel)
    assert len(sent) == 1
    code, _, subcode = expected.split(":")[0].split(" ", 1)[1].partition("/")
    assert (sent.iloc[0].status, sent.iloc[0].code, sent.iloc[0].subcode) == (400, code,
                                                                              subcode)


@pytest.mark.parametrize("kind", ["add", "continue"])
def test_empty_list_is_a_validation_error(
        lab: Lab, shared_sim: Simulator, kind: Kind) -> None:
    session = lab.connect(NOBODY, sim=shared_sim)
    form = make_form(session, kind)
    assert form.picker.options == ()
    assert form.picker.value is None
    assert "list is empty" in text_of(form.messages.value)
    assert form.send.disabled is True
    form.send_anyway.value = True
    assert form.send.disabled is False
    form.send.click()
    # Nothing to send to: a clear message rather than an AttributeError about None.
    response = text_of(form.response.value)
    assert "not sent" in response
    assert "Unexpected error" not in response
    rel = "addPhoneAudio" if kind == "add" else "continuePhoneAudio"
    assert posts(session, rel).empty


# --------------------------------------------------------------------------- errors answered


def test_sending_twice_on_a_conversation_shows_409_already_exists(session: Session) -> None:
    form = AddPhoneAudioForm(session)
    first = send_and_wait(form, "connected")
    # The addPhoneAudio link is gone now that phone audio is connected: the form says why.
    form.send.click()
    assert form.call is first
    assert "not sent" in text_of(form.response.value)
    assert "addPhoneAudio is not offered now" in text_of(form.messages.value)
    assert len(posts(session, "addPhoneAudio")) == 1
    # What was not sent leaves the live call's progress and timeline on show.
    assert "connected" in text_of(form.progress.value)
    assert "completed Success" in form.timeline.value
    # Send anyway posts to the link seen earlier, as a racing client would.
    form.send_anyway.value = True
    form.send.click()
    response = text_of(form.response.value)
    assert "409 Conflict/AlreadyExists" in response
    assert "already connecting or connected" in response
    assert form.call is first
    sent = posts(session, "addPhoneAudio")
    assert list(sent.status) == [201, 409]
    assert sent.iloc[1].subcode == "AlreadyExists"


@pytest.mark.parametrize(("kind", "fault", "expected"), [
    pytest.param("add", "TooManyGroups", "409 Conflict/TooManyGroups", id="add-TooManyGroups"),
    pytest.param("add", "Conflict", "409 Conflict: ", id="add-Conflict"),
    pytest.param("add", "CannotRedirect", "410 Gone/CannotRedirect", id="add-CannotRedirect"),
    pytest.param("continue", "AlreadyExists", "409 Conflict/AlreadyExists",
                 id="continue-AlreadyExists"),
    pytest.param("continue", "TooManyGroups", "409 Conflict/TooManyGroups",
                 id="continue-TooManyGroups"),
    pytest.param("continue", "CannotRedirect", "410 Gone/CannotRedirect",
                 id="continue-CannotRedirect"),
])
def test_injected_server_errors_are_shown_with_status_code_and_subcode(
        session: Session, sim: Simulator, kind: Kind, fault: str, expected: str) -> None:
    rel = "addPhoneAudio" if kind == "add" else "continuePhoneAudio"
    form = make_form(session, kind)
    sim.inject_fault(rel, fault)
    op = form.operation_id.value
    form.send.click()
    response = text_of(form.response.value)
    assert response.startswith("error ")
    assert expected in response
    assert form.call is None
    assert form.progress.value == form.timeline.value == ""
    row = posts(session, rel).iloc[-1]
    assert row.status == int(expected[:3])
    assert row.operation_id == op
    # The fault was for one request: sending again works, from the same form.
    send_and_wait(form, "connected")
    assert list(posts(session, rel).status) == [int(expected[:3]), 201]


@pytest.mark.parametrize("kind", ["add", "continue"])
def test_guest_without_a_call_scope_is_offered_no_call(
        lab: Lab, shared_sim: Simulator, kind: Kind) -> None:
    # No call scope, so no link: the form says the operation is not offered and sends nothing.
    session = lab.connect(GUEST, sim=shared_sim)
    form = make_form(session, kind)
    rel = "addPhoneAudio" if kind == "add" else "continuePhoneAudio"
    assert form.send.disabled is True
    assert f"{rel} is not offered" in text_of(form.messages.value)
    assert posts(session, rel).empty


@pytest.mark.parametrize("kind", ["add", "continue"])
def test_stopped_event_channel_gives_500_callback_channel_error(
        lab: Lab, kind: Kind) -> None:
    # This server refuses operations as soon as the event channel stops polling.
    session = lab.connect(sim=lab.start(callback_grace=0.05))
    form = make_form(session, kind)
    assert session.event_channel is not None
    session.event_channel.stop(timeout=5.0)  # the poll is at most 1 s long (poll_timeout)
    assert not session.event_channel.alive
    time.sleep(0.2)  # longer than the scenario's callback_grace
    form.send.click()
    response = text_of(form.response.value)
    assert "500 ServiceFailure/CallbackChannelError" in response
    assert "event channel" in response
    assert form.call is None


# --------------------------------------------------------------------------- async failures


@pytest.mark.parametrize(("conversation", "to", "phone", "failure"), [
    pytest.param("Budget review", "sip:maria@contoso.com", "", "RemoteFailure/Busy",
                 id="busy"),
    pytest.param("Budget review", "sip:pierre@contoso.com", "", "RemoteFailure/Declined",
                 id="declined"),
    pytest.param("Project sync", "sip:john@contoso.com", NEVER_ANSWERED_PHONE,
                 "LocalFailure/PstnCallFailed", id="own-phone-not-answered"),
    pytest.param("Quick question", "sip:nora@contoso.com", "", "Timeout",
                 id="never-answers"),
])
def test_asynchronous_failure_is_shown_as_failed_with_its_reason(
        session: Session, conversation: str, to: str, phone: str, failure: str) -> None:
    form = AddPhoneAudioForm(session)
    pick(form, conversation)
    form.to.value = to
    form.phone_number.value = phone
    assert "ready to send" in text_of(form.messages.value)
    started = time.monotonic()
    form.send.click()
    # The POST is answered at once; the outcome comes later from the event thread.
    assert time.monotonic() - started < 2.0
    assert "201 Created" in text_of(form.response.value)
    call = form.call
    assert call is not None
    wait_until(lambda: "failed" in text_of(form.progress.value),
               what=lambda: f"a failure; shown: {text_of(form.progress.value)!r}")
    assert text_of(form.progress.value) == f"failed ({failure})"
    assert BAD in form.progress.value
    assert call.status == "Failure"
    assert f"completed Failure {failure}" in text_of(form.timeline.value)
    code, _, subcode = failure.partition("/")
    wait_until(lambda: ((session.log.df.operation_id == call.operation_id)
                        & (session.log.df.event_type == "completed")).any(), what="logged")
    df = session.log.df
    done = df[(df.operation_id == call.operation_id) & (df.event_type == "completed")].iloc[0]
    assert (done.event_status, done.code) == ("Failure", code)
    if subcode:
        assert done.subcode == subcode
    else:
        assert pd.isna(done.subcode)


def test_continue_with_a_callee_who_declines_fails(session: Session) -> None:
    form = ContinuePhoneAudioForm(session)
    pick(form, "Supplier call")
    call = send_and_wait(form, "failed")
    assert text_of(form.progress.value) == "failed (RemoteFailure/Declined)"
    assert call.target == "sip:pierre@contoso.com"
    assert "completed Failure RemoteFailure/Declined" in text_of(form.timeline.value)


# --------------------------------------------------------------------------- server gone


@pytest.mark.parametrize("kind", ["add", "continue"])
def test_simulator_stopped_while_the_form_is_open(
        session: Session, sim: Simulator, kind: Kind) -> None:
    form = make_form(session, kind)
    assert form.send.disabled is False
    sim.stop()
    started = time.monotonic()
    form.send.click()
    assert time.monotonic() - started < 3.0  # refused at once; nothing hangs
    response = text_of(form.response.value)
    assert "Cannot reach the server" in response
    assert "Traceback" not in response
    assert form.call is None
    # The failed exchange is in the log, with no status and the transport error.
    last = session.log.df.iloc[-1]
    assert last.kind == "http"
    assert pd.isna(last.status)
    assert "ConnectError" in last.error
    started = time.monotonic()
    form.refresh.click()
    assert time.monotonic() - started < 3.0
    assert "Cannot reach the server" in text_of(form.response.value)
    assert len(form.picker.options) == 3  # the list from before is kept


# --------------------------------------------------------------------------- preview


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_add_preview_is_the_exact_request(session: Session, fmt: str) -> None:
    form = AddPhoneAudioForm(session)
    form.format.value = fmt
    form.phone_number.value = "tel:+14255551234"
    conversation = form.picker.value
    expected_url = session.prepare_add_phone_audio(conversation, "sip:john@contoso.com").url
    assert expected_url.endswith("/phoneAudio/addPhoneAudio")
    line, headers, body = preview_parts(form)
    assert line == f"POST {expected_url}"
    media = f"application/{fmt}"
    assert headers == {"Authorization": "Bearer [REDACTED]", "Content-Type": media,
                       "Accept": media}
    assert parse_input(body, media) == {"operationId": form.operation_id.value,
                                        "phoneNumber": "tel:+14255551234",
                                        "to": "sip:john@contoso.com"}
    if fmt == "json":
        assert json.loads(body)["to"] == "sip:john@contoso.com"
    else:
        assert body.startswith("<?xml")
        assert '<property name="to">sip:john@contoso.com</property>' in body
    # What Send posts is what the preview showed, byte for byte.
    form.send.click()
    row = posts(session, "addPhoneAudio").iloc[0]
    assert row.url == expected_url
    assert row.request_body == body


def test_preview_follows_every_change(readonly_session: Session) -> None:
    form = AddPhoneAudioForm(readonly_session)
    form.to.value = "sip:someone@contoso.com"
    assert '"to":"sip:someone@contoso.com"' in preview_parts(form)[2]
    form.phone_number.value = "tel:+14255550100"
    assert '"phoneNumber":"tel:+14255550100"' in preview_parts(form)[2]
    form.operation_id.value = "my-op"
    assert '"operationId":"my-op"' in preview_parts(form)[2]
    pick(form, "Quick question")
    url = readonly_session.prepare_add_phone_audio(form.picker.value, "sip:nora@contoso.com").url
    assert preview_parts(form)[0] == f"POST {url}"


def test_continue_preview_has_no_to(readonly_session: Session) -> None:
    form = ContinuePhoneAudioForm(readonly_session)
    form.format.value = "xml"
    log = form.picker.value
    url = readonly_session.prepare_continue_phone_audio(log).url
    assert url.endswith("/continuePhoneAudio")
    line, headers, body = preview_parts(form)
    assert line == f"POST {url}"
    assert headers["Content-Type"] == "application/xml"
    assert parse_input(body, "application/xml") == {"operationId": form.operation_id.value}


@pytest.mark.parametrize("kind", ["add", "continue"])
def test_snippets_are_copy_ready(readonly_session: Session, kind: Kind) -> None:
    form = make_form(readonly_session, kind)
    form.format.value = "xml"
    line, _, body = preview_parts(form)
    url = line.removeprefix("POST ")
    curl = text_of(form.snippets.children[0].value)
    python = text_of(form.snippets.children[1].value)
    assert form.snippets.titles == ("curl", "Python")
    # The form shows PreparedCall.curl(), which tests/client/test_snippets.py runs.
    # Two comment lines on how to get $UCWA_TOKEN, then the command.
    assert curl.splitlines()[0].startswith("# $UCWA_TOKEN: ")
    assert curl.splitlines()[2].startswith(f"curl -i -X POST {shlex.quote(url)}")
    assert '-H "Authorization: Bearer $UCWA_TOKEN"' in curl  # double quotes: the shell expands
    assert "-H 'Content-Type: application/xml'" in curl
    assert f"--data-binary {shlex.quote(body)}" in curl
    assert form.operation_id.value in curl
    compile(python, "<python snippet>", "exec")  # valid Python as shown
    assert "httpx.post(" in python
    assert repr(url) in python
    assert repr(body) in python
    assert 'os.environ.get("UCWA_TOKEN")' in python
    assert "export_token(session)" in python


def test_the_token_never_appears_in_any_widget(session: Session) -> None:
    authorization = f"Bearer {bearer_of(session.http_client).token}"
    token = authorization.removeprefix("Bearer ").strip()
    assert len(token) > 16
    add, cont, view = (AddPhoneAudioForm(session), ContinuePhoneAudioForm(session),
                       LogView(session.log))
    send_and_wait(add, "connected")
    cont.phone_number.value = "tel:12"
    cont.send_anyway.value = True
    cont.send.click()
    assert "NormalizationFailed" in text_of(cont.response.value)
    for seq in [seq for _, seq in view.row.options]:
        view.row.value = seq  # every row's details, headers included
        assert token not in view.details.value
    for widget in (add, cont, view):
        strings = widget_strings(widget)
        assert strings
        leaks = [s for s in strings if token in s]
        assert not leaks, f"token shown by {type(widget).__name__}"
    assert "Bearer [REDACTED]" in text_of(add.preview.value)
    view.close()


def test_regenerate_makes_a_new_operation_id(readonly_session: Session) -> None:
    form = AddPhoneAudioForm(readonly_session)
    before = form.operation_id.value
    form.regenerate.click()
    after = form.operation_id.value
    assert after != before
    assert re.fullmatch(r"[0-9a-f]{32}", after)
    assert f'"operationId":"{after}"' in preview_parts(form)[2]
    assert after in text_of(form.snippets.children[0].value)


def test_refresh_reloads_the_list(session: Session) -> None:
    form = AddPhoneAudioForm(session)
    assert len(form.picker.options) == 3
    # continuePhoneAudio makes a new conversation on the server.
    log = session.conversation_logs()[0]
    session.continue_phone_audio(log).wait(5)
    assert len(form.picker.options) == 3  # not reloaded on its own
    form.refresh.click()
    labels = [label for label, _ in form.picker.options]
    assert len(labels) == 4
    assert labels.count("Weekly one-to-one with John Doe") == 1
    assert "error" not in text_of(form.response.value)


# --------------------------------------------------------------------------- callback errors


def test_an_exception_in_refresh_is_shown_in_the_form(
        readonly_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    form = AddPhoneAudioForm(readonly_session)

    def broken() -> list[Any]:
        raise RuntimeError("conversations exploded")

    monkeypatch.setattr(readonly_session, "conversations", broken)
    form.refresh.click()  # ipywidgets would swallow the exception: the form must show it
    response = text_of(form.response.value)
    assert "Unexpected error: RuntimeError: conversations exploded" in response
    assert BAD in form.response.value


def test_an_exception_while_typing_is_shown_in_the_form(
        readonly_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    form = ContinuePhoneAudioForm(readonly_session)

    def broken() -> dict[str, str]:
        raise ValueError("validator broke")

    monkeypatch.setattr(form, "_problems", broken)
    form.phone_number.value = "tel:+14255551234"  # observers run update()
    assert "Unexpected error: ValueError: validator broke" in text_of(form.response.value)


def test_an_exception_in_a_progress_update_is_shown_in_the_form(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_when_done(call: PhoneAudioCall) -> str:
        if call.done:
            raise RuntimeError("timeline exploded")
        return call_timeline_html(call)

    monkeypatch.setattr(forms, "call_timeline_html", broken_when_done)
    form = AddPhoneAudioForm(session)
    form.send.click()
    assert form.call is not None
    # Runs on the event thread, where PhoneAudioCall would otherwise drop the exception.
    wait_until(lambda: "timeline exploded" in text_of(form.response.value),
               what=lambda: f"the error; shown: {text_of(form.response.value)!r}")
    assert "Unexpected error: RuntimeError: timeline exploded" in text_of(form.response.value)


# --------------------------------------------------------------------------- after Run All


def test_the_default_pick_is_one_where_the_operation_is_offered(session: Session) -> None:
    # The quick start's code connects John in the first conversation before anyone presses
    # Send; a form made (or refreshed) then picks a conversation that can take a call.
    first = session.conversations()[0]
    session.add_phone_audio(first, to="sip:john@contoso.com").wait(5)
    form = AddPhoneAudioForm(session)
    assert form.picker.value.href != first.href
    assert "ready to send" in text_of(form.messages.value)
    send_and_wait(form, "failed")  # Budget review: Maria is busy


def test_after_a_call_connects_the_form_does_not_offer_the_gone_link(session: Session) -> None:
    form = AddPhoneAudioForm(session)
    send_and_wait(form, "connected")
    wait_until(lambda: "addPhoneAudio is not offered right now" in text_of(form.messages.value),
               what=lambda: f"the link's absence; shown: {text_of(form.messages.value)!r}")
    assert "ready to send" not in text_of(form.messages.value)
    assert form.send.disabled
    # A failed call frees its conversation: after it, the form is ready again.
    form.picker.value = form.picker.options[1][1]
    send_and_wait(form, "failed")
    wait_until(lambda: "ready to send" in text_of(form.messages.value),
               what=lambda: f"ready again; shown: {text_of(form.messages.value)!r}")


@pytest.mark.parametrize("kind", ["add", "continue"])
def test_a_form_on_a_closed_session_says_so_in_words(session: Session, kind: Kind) -> None:
    form = make_form(session, kind)
    session.close()
    form.send.click()
    assert text_of(form.response.value) == "not sent " + forms.CLOSED_SESSION
    form.response.value = ""
    form.refresh.click()
    assert text_of(form.response.value) == "not sent " + forms.CLOSED_SESSION
    form.send_anyway.value = True
    form.send.click()
    assert "Error" not in text_of(form.response.value)
    assert form.call is None


# --------------------------------------------------------------------------- call controls


def test_a_new_user_connects_hangs_up_from_the_form_and_calls_again(session: Session) -> None:
    # The story: after one connected call to John, Send stayed disabled, Refresh
    # never helped and nothing on the form hung up.
    form = AddPhoneAudioForm(session)
    controls = form.call_controls
    first = send_and_wait(form, "connected")
    wait_until(lambda: controls.shown == ("stopPhoneAudio", "holdPhoneAudio"),
               what=lambda: f"Hang up and Hold; shown: {controls.shown}")
    wait_until(lambda: form.send.disabled, what="Send disabled while the call is on")
    controls.buttons["holdPhoneAudio"].click()
    assert controls.shown == ("stopPhoneAudio", "resumePhoneAudio")
    controls.buttons["resumePhoneAudio"].click()
    assert controls.shown == ("stopPhoneAudio", "holdPhoneAudio")
    controls.buttons["stopPhoneAudio"].click()
    assert "error" not in text_of(form.response.value), text_of(form.response.value)
    assert not controls.shown
    assert "ready to send" in text_of(form.messages.value)
    assert form.send.disabled is False
    second = send_and_wait(form, "connected")
    assert second is not first
    assert list(posts(session, "addPhoneAudio").status) == [201, 201]
    assert list(posts(session, "stopPhoneAudio").status) == [204]


def test_cancel_is_offered_while_ringing_and_cancels(lab: Lab) -> None:
    session = lab.connect(sim=lab.start(ring_timeout=5.0))
    form = AddPhoneAudioForm(session)
    pick(form, "Quick question")  # Nora never answers
    form.send.click()
    controls = form.call_controls
    wait_until(lambda: "cancel" in controls.shown,
               what=lambda: f"Cancel while ringing; shown: {controls.shown}")
    controls.buttons["cancel"].click()
    wait_until(lambda: "failed" in text_of(form.progress.value),
               what=lambda: f"the cancelled call; shown: {text_of(form.progress.value)!r}")
    assert "Canceled" in text_of(form.progress.value)
    wait_until(lambda: controls.shown == (), what=lambda: f"no controls; {controls.shown}")


def test_start_phone_audio_form_is_built_from_the_definition(session: Session) -> None:
    form = StartPhoneAudioForm(session)
    assert repr(form) == "StartPhoneAudioForm()"
    assert list(form.inputs) == ["operation_id", "phone_number", "subject", "to", "importance",
                                 "thread_id"]
    shown = [c for c in all_widgets(form) if c is form.picker]
    assert shown == []  # on communication: nothing to pick
    assert isinstance(form.inputs["importance"], w.Dropdown)
    assert form.inputs["subject"].tooltip.startswith("the new conversation's subject")
    assert "to: required" in text_of(form.messages.value)
    assert form.send.disabled
    form.inputs["to"].value = "sip:john@contoso.com"
    form.inputs["subject"].value = "From the form"
    form.inputs["importance"].value = "Urgent"
    assert "ready to send" in text_of(form.messages.value)
    body = parse_input(preview_parts(form)[2], "application/json")
    assert body == {"operationId": form.operation_id.value, "subject": "From the form",
                    "to": "sip:john@contoso.com", "importance": "Urgent"}
    call = send_and_wait(form, "connected")
    assert call.kind == "startPhoneAudio"
    wait_until(lambda: "stopPhoneAudio" in form.call_controls.shown,
               what=lambda: f"Hang up; shown: {form.call_controls.shown}")
    form.call_controls.buttons["stopPhoneAudio"].click()
    assert form.call_controls.shown == ()


# --------------------------------------------------------------------------- threads


def test_updates_from_many_threads_end_consistent_with_the_last_input(
        readonly_session: Session) -> None:
    # The kernel types while the event thread draws progress and link checks run update():
    # no exception, and what is on show at the end is the last input's.
    form = AddPhoneAudioForm(readonly_session)
    call = PhoneAudioCall("hammer-op", "addPhoneAudio", "sip:john@contoso.com")
    form.call = call
    failures: list[BaseException] = []
    stop = threading.Event()

    def hammer(work: Any) -> None:
        while not stop.is_set():
            try:
                work()
            except BaseException as exc:  # collected for the assertion
                failures.append(exc)
                return

    workers = [threading.Thread(target=hammer, args=(job,)) for job in
               (form.update, form.update, lambda: form._on_call_change(call))]
    for worker in workers:
        worker.start()
    try:
        for i in range(150):
            form.operation_id.value = f"op-{i}"
            form.to.value = "sip:john@contoso.com" if i % 2 else "john@contoso.com"
    finally:
        stop.set()
        for worker in workers:
            worker.join(10)
    assert failures == []
    assert "error" not in text_of(form.response.value)
    body = preview_parts(form)[2]
    assert json.loads(body) == {"operationId": "op-149", "to": "sip:john@contoso.com"}
    assert "ready to send" in text_of(form.messages.value)
    assert form.send.disabled is False
    assert "op-149" in text_of(form.snippets.children[0].value)


def test_any_operation_that_starts_a_call_gets_a_form_from_its_definition(
        readonly_session: Session) -> None:
    # The named forms only fix the operation: OperationForm(session, spec) picks what to list
    # from what the operation is reached from.
    logs = forms.OperationForm(readonly_session, CONTINUE_PHONE_AUDIO)
    assert logs.picker.description == "Conversation log"
    assert [label for label, _ in logs.picker.options] == \
        [label for label, _ in ContinuePhoneAudioForm(readonly_session).picker.options]
    start = forms.OperationForm(readonly_session, START_PHONE_AUDIO)
    assert start.picker not in all_widgets(start)
    with pytest.raises(ValueError, match="holdPhoneAudio does not start a call"):
        forms.OperationForm(readonly_session, HOLD_PHONE_AUDIO)
