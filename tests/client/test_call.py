"""PhoneAudioCall fed by hand (as the event thread feeds it) and describe_progress."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from ucwa_nb import PhoneAudioCall
from ucwa_nb.client.call import CallEvent, describe_progress
from ucwa_nb.protocol import Event, Link, Reason, Resource

HREF = "/ucwa/oauth/v1/applications/101/communication/phoneAudioInvitations/7"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _event(kind: str, state: str | None, *, status: str | None = None,
           reason: Reason | None = None, cancel: bool = True) -> Event:
    links = {"cancel": [Link("cancel", HREF + "/cancel")]} if cancel else {}
    resource = Resource("phoneAudioInvitation", HREF,
                        {"state": state, "operationId": "op-1"} if state else {}, links)
    return Event(kind, Link("phoneAudioInvitation", HREF), status=status, reason=reason,
                 embedded={"phoneAudioInvitation": [resource]})


def _call() -> PhoneAudioCall:
    return PhoneAudioCall("op-1", "addPhoneAudio", "sip:john@contoso.com")


def test_a_new_call() -> None:
    call = _call()
    assert (call.state, call.status, call.reason) == (None, None, None)
    assert call.events == []
    assert not call.done
    assert call.progress == "sending"
    call.location = "http://x" + HREF
    assert call.progress == "connecting"
    assert "op-1" in repr(call)
    assert "sip:john@contoso.com" in repr(call)


def test_events_in_order_with_state_status_and_reason() -> None:
    call = _call()
    call.receive(_event("started", "Connecting"), T0)
    assert call.progress == "connecting"
    call.receive(_event("updated", "Connecting"), T0)
    assert call.progress == "ringing your phone"
    call.receive(_event("updated", "Alerting"), T0)
    assert call.progress == "ringing the callee"
    assert not call.done
    call.receive(_event("completed", "Connected", status="Success", cancel=False), T0)
    assert call.done
    assert [e.type for e in call.events] == ["started", "updated", "updated", "completed"]
    assert [e.state for e in call.events] == ["Connecting", "Connecting", "Alerting",
                                              "Connected"]
    assert all(isinstance(e, CallEvent) and e.time == T0 for e in call.events)
    assert (call.state, call.status, call.reason) == ("Connected", "Success", None)
    assert call.progress == "connected"
    assert call._cancel_href is None  # completed: no cancel link any more


def test_failure_reason_and_status_without_status_field() -> None:
    call = _call()
    reason = Reason("RemoteFailure", "Busy", "sip:maria@contoso.com is busy.")
    call.receive(_event("completed", "Failed", reason=reason, cancel=False), T0)
    assert call.status == "Failure"  # inferred from the reason
    assert call.reason == reason
    assert call.progress == "failed (RemoteFailure/Busy)"


def test_events_is_a_copy() -> None:
    call = _call()
    call.receive(_event("started", "Connecting"), T0)
    events = call.events
    events.clear()
    assert len(call.events) == 1


def test_an_event_without_an_embedded_resource() -> None:
    call = _call()
    call.receive(Event("started", Link("phoneAudioInvitation", HREF)), T0)
    assert call.state is None
    assert call.events[0].state is None


def test_wait_returns_when_completed_from_another_thread() -> None:
    call = _call()
    timer = threading.Timer(0.05, call.receive,
                            (_event("completed", "Connected", status="Success"), T0))
    timer.start()
    try:
        assert call.wait(5.0) is call
    finally:
        timer.join(5.0)
    assert call.status == "Success"


def test_wait_times_out() -> None:
    call = _call()
    call.receive(_event("updated", "Alerting"), T0)
    with pytest.raises(TimeoutError, match="ringing the callee"):
        call.wait(0.01)


def test_listeners_and_unsubscribe() -> None:
    call = _call()
    seen: list[str] = []
    unsubscribe = call.on_change(lambda c: seen.append(c.progress))
    call.receive(_event("started", "Connecting"), T0)
    unsubscribe()
    unsubscribe()  # twice is harmless
    call.receive(_event("updated", "Alerting"), T0)
    assert seen == ["connecting"]


def test_cancel_needs_a_session() -> None:
    with pytest.raises(RuntimeError, match="not attached"):
        _call().cancel()


@pytest.mark.parametrize(("args", "expected"), [
    (("started", "Connecting", None, None), "connecting"),
    (("updated", "Connecting", None, None), "ringing your phone"),
    (("updated", "Alerting", None, None), "ringing the callee"),
    (("updated", "Forwarded", None, None), "forwarded"),
    (("completed", "Connected", "Success", None), "connected"),
    (("completed", "Failed", "Failure", Reason("Timeout")), "failed (Timeout)"),
    (("completed", "Failed", "Failure", None), "failed"),
])
def test_describe_progress(args: tuple[str, str | None, str | None, Reason | None],
                           expected: str) -> None:
    assert describe_progress(*args) == expected


def test_wait_for_a_state_reached_from_another_thread() -> None:
    call = _call()

    def ring() -> None:
        call.receive(_event("started", "Connecting"), T0)
        call.receive(_event("updated", "Alerting"), T0)

    feeder = threading.Timer(0.05, ring)
    feeder.start()
    assert call.wait_for("Alerting", timeout=5) is call
    assert call.state == "Alerting"
    assert not call.done
    feeder.join()


def test_wait_for_a_state_the_call_never_reaches() -> None:
    call = _call()
    call.receive(_event("started", "Connecting"), T0)
    with pytest.raises(TimeoutError, match=r"did not reach Alerting within 0\.05 s"):
        call.wait_for("Alerting", timeout=0.05)
    call.receive(_event("completed", "Failed", status="Failure",
                        reason=Reason("RemoteFailure", "Busy")), T0)
    with pytest.raises(RuntimeError, match=r"completed \(Failure, Failed\) without reaching"):
        call.wait_for("Alerting", timeout=5)


def test_events_and_call_events_have_short_reprs() -> None:
    call = _call()
    call.receive(_event("updated", "Alerting"), T0)
    call.receive(_event("completed", "Failed", status="Failure",
                        reason=Reason("RemoteFailure", "Busy", message="x" * 500)), T0)
    assert repr(call.events) == ("[<CallEvent 09:00:00.000 updated Alerting>, "
                                 "<CallEvent 09:00:00.000 completed Failed>]")
    assert repr(call.events[1].event) == (
        "<Event completed phoneAudioInvitation Failed Failure RemoteFailure/Busy>")
    bare = Event("added", Link("participant", "/p/1"))
    assert repr(bare) == "<Event added participant>"
