"""The per-call sequence picture (HTML/SVG) shown by PhoneAudioCall._repr_html_."""

from __future__ import annotations

from datetime import UTC, datetime

from ucwa_nb import PhoneAudioCall
from ucwa_nb.display.timeline import call_timeline_html
from ucwa_nb.protocol import Event, Link, Reason, Resource

HREF = "/ucwa/oauth/v1/applications/101/communication/phoneAudioInvitations/1"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _feed(call: PhoneAudioCall, kind: str, state: str, status: str | None = None,
          reason: Reason | None = None) -> None:
    resource = Resource("phoneAudioInvitation", HREF, {"state": state})
    call.receive(Event(kind, Link("phoneAudioInvitation", HREF), status=status,
                          reason=reason, embedded={"phoneAudioInvitation": [resource]}), T0)


def test_unsent_call_shows_only_the_post() -> None:
    call = PhoneAudioCall("op-1", "continuePhoneAudio", None)
    html = call._repr_html_()
    assert html.count("<line") == 3 + 1  # three lanes and one arrow
    assert "POST continuePhoneAudio" in html
    assert "(from the log)" in html
    assert "sending" in html


def test_successful_call() -> None:
    call = PhoneAudioCall("op-2", "addPhoneAudio", "sip:john@contoso.com")
    call.http_status = 201
    for kind, state in (("started", "Connecting"), ("updated", "Connecting"),
                        ("updated", "Alerting")):
        _feed(call, kind, state)
    _feed(call, "completed", "Connected", "Success")
    html = call_timeline_html(call)
    assert html == call._repr_html_()
    assert html.startswith('<div class="ucwa-nb-timeline">')
    assert html.count("<svg") == 1
    assert html.count('marker-end="url(#arrow)"') == 6  # POST, 201, four events
    for label in ("POST addPhoneAudio", "201 Created", "started (Connecting)",
                  "updated (Alerting)", "completed Success", "connected"):
        assert label in html, label
    assert "var(--jp-success-color1" in html  # theme colours with fallbacks


def test_failed_call_and_escaping() -> None:
    call = PhoneAudioCall("op<3>", "addPhoneAudio", "sip:a&b@contoso.com")
    call.http_status = 201
    _feed(call, "completed", "Failed", "Failure", Reason("RemoteFailure", "Busy"))
    html = call_timeline_html(call)
    assert "completed Failure RemoteFailure/Busy" in html
    assert "op&lt;3&gt;" in html
    assert "op<3>" not in html
    assert "sip:a&amp;b@contoso.com" in html
    assert "var(--jp-error-color1" in html


def test_synchronous_error_status() -> None:
    call = PhoneAudioCall("op-4", "addPhoneAudio", "sip:john@contoso.com")
    call.http_status = 409
    html = call_timeline_html(call)
    assert ">409<" in html
    assert "Created" not in html


def test_events_that_beat_the_201_are_drawn_before_it() -> None:
    call = PhoneAudioCall("op-5", "addPhoneAudio", "sip:john@contoso.com")
    _feed(call, "started", "Connecting")
    call.events_before_response = 1
    call.http_status = 201
    _feed(call, "updated", "Alerting")
    html = call_timeline_html(call)
    order = [html.index(label) for label in
             ("POST addPhoneAudio", "started (Connecting)", "201 Created", "updated (Alerting)")]
    assert order == sorted(order)


def test_the_text_version_reads_line_by_line_and_names_the_number_dialled() -> None:
    from IPython.lib.pretty import pretty

    from ucwa_nb.display.timeline import call_timeline_text

    call = PhoneAudioCall("op-4", "addPhoneAudio", "sip:john@contoso.com")
    call.http_status = 201
    resource = Resource("phoneAudioInvitation", HREF,
                        {"state": "Connecting", "phoneNumber": "tel:+15551234"})
    call.receive(Event("started", Link("phoneAudioInvitation", HREF),
                       embedded={"phoneAudioInvitation": [resource]}), T0)
    _feed(call, "completed", "Connected", "Success")  # an event without phoneNumber
    assert call.phone_number == "tel:+15551234"
    text = call_timeline_text(call)
    assert text == pretty(call)  # type: ignore[no-untyped-call]  # IPython's text/plain
    assert text.splitlines() == [
        "addPhoneAudio op-4 to sip:john@contoso.com: connected",
        "your phone, as dialled: tel:+15551234",
        "  client -> server  POST addPhoneAudio",
        "  server -> client  201 Created",
        "  events -> client  started (Connecting)",
        "  events -> client  completed Success",
    ]
    assert "your phone, as dialled: <code>tel:+15551234</code>" in call._repr_html_()
    assert repr(call) == "<PhoneAudioCall addPhoneAudio op-4 to=sip:john@contoso.com connected>"


def test_no_number_before_an_event_carries_one() -> None:
    from ucwa_nb.display.timeline import call_timeline_text

    call = PhoneAudioCall("op-5", "startPhoneAudio", "sip:john@contoso.com")
    assert call.phone_number is None
    assert "dialled" not in call_timeline_text(call)
