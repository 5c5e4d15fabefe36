"""OperationRunner: any operation from its definition alone. A new operation with input,
defined here and nowhere in ucwa_nb (sendDtmf on phoneAudio, with a ``tones`` field and its
own check), is performed on a call against a server made of an httpx.MockTransport: its body
is sent in the session's format, and a bad value is refused before anything is sent."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import httpx
import pytest

from ucwa_nb import PhoneAudioCall, ValidationError, parse_input
from ucwa_nb.client.hooks import ExchangeHooks
from ucwa_nb.client.navigation import Navigator
from ucwa_nb.client.preferences import Preferences
from ucwa_nb.client.registry import CallRegistry
from ucwa_nb.client.runner import OperationRunner
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.protocol.operations import CheckContext, InputField, OperationSpec
from ucwa_nb.protocol.representation import Format

BASE = "https://fe1.contoso.com/ucwa/oauth/v1/applications/1/communication"
INVITATION = f"{BASE}/phoneAudioInvitations/7"
PHONE_AUDIO = f"{BASE}/conversations/3/phoneAudio"


def _tones(value: str, _: CheckContext) -> str | None:
    if not re.fullmatch(r"[0-9*#A-D]{1,32}", value):
        return "1 to 32 of 0-9, *, #, A-D"
    return None


SEND_DTMF = OperationSpec(
    "sendDtmf", "Send touch tones on the connected call.", acts_on="phoneAudio",
    reached_from="phoneAudioInvitation", path=("phoneAudio",),
    fields=(InputField("tones", "tones", "the keys to press", required=True, check=_tones),))


class FakeServer:
    """An invitation that links to its phoneAudio, which offers sendDtmf (or not)."""

    def __init__(self, offers_send_dtmf: bool = True) -> None:
        self.offers_send_dtmf = offers_send_dtmf
        self.posts: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        json_type = {"Content-Type": "application/json"}
        if request.method == "GET" and str(request.url) == INVITATION:
            body = {"_links": {"self": {"href": INVITATION},
                               "phoneAudio": {"href": PHONE_AUDIO}}, "state": "Connected"}
            return httpx.Response(200, json=body, headers=json_type)
        if request.method == "GET" and str(request.url) == PHONE_AUDIO:
            links = {"self": {"href": PHONE_AUDIO}}
            if self.offers_send_dtmf:
                links["sendDtmf"] = {"href": PHONE_AUDIO + "/sendDtmf"}
            return httpx.Response(200, json={"_links": links, "state": "Connected"},
                                  headers=json_type)
        if request.method == "POST" and str(request.url) == PHONE_AUDIO + "/sendDtmf":
            self.posts.append(request)
            return httpx.Response(204)
        return httpx.Response(404)


def _call_on(server: FakeServer, fmt: Format) -> PhoneAudioCall:
    clock = lambda: datetime(2026, 11, 2, tzinfo=UTC)  # noqa: E731
    log = ExchangeLog(clock=clock)
    preferences = Preferences(fmt, "US")
    hooks = ExchangeHooks(log, clock)
    client = httpx.Client(transport=httpx.MockTransport(server), event_hooks=hooks.event_hooks)
    runner = OperationRunner(Navigator(client, hooks, preferences), preferences,
                             CallRegistry(), clock, lambda: "op-1")
    call = PhoneAudioCall("op-1", "addPhoneAudio", "sip:john@contoso.com", runner, clock)
    call.location = INVITATION
    return call


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_new_operation_with_input_is_performed_with_its_body(fmt: Format) -> None:
    server = FakeServer()
    call = _call_on(server, fmt)
    call.perform(SEND_DTMF, tones="12#")
    [post] = server.posts
    media = f"application/{fmt}"
    assert (post.headers["Content-Type"], post.headers["Accept"]) == (media, media)
    assert parse_input(post.content, media) == {"tones": "12#"}
    if fmt == "json":
        assert json.loads(post.content) == {"tones": "12#"}


@pytest.mark.parametrize("tones", ["12x", "", None])
def test_a_bad_value_is_refused_locally(tones: str | None) -> None:
    server = FakeServer()
    call = _call_on(server, "json")
    with pytest.raises(ValidationError) as refused:
        call.perform(SEND_DTMF, tones=tones)
    assert list(refused.value.problems) == ["tones"]
    assert server.posts == []


def test_an_unknown_argument_is_a_type_error_and_sends_nothing() -> None:
    server = FakeServer()
    with pytest.raises(TypeError, match="sendDtmf got unexpected input tone"):
        _call_on(server, "json").perform(SEND_DTMF, tone="1")
    assert server.posts == []


def test_a_link_not_offered_is_said_with_the_resource_state() -> None:
    server = FakeServer(offers_send_dtmf=False)
    call = _call_on(server, "json")
    with pytest.raises(ValidationError,
                       match=r"sendDtmf is not offered now \(phone audio is Connected\)"):
        call.perform(SEND_DTMF, tones="1")
    assert server.posts == []
