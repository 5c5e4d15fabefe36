"""The table of operations (``sim/operations.py``): every operation is served from its row by
the one handler, its link and its row agree, and a new operation with input needs only a row
and a rule (here a test-only sendDtmf on phoneAudio)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from ucwa_nb.protocol.operations import OPERATIONS as SPECS
from ucwa_nb.protocol.operations import CheckContext, InputField, OperationSpec
from ucwa_nb.protocol.representation import reason_of
from ucwa_nb.sim import paths
from ucwa_nb.sim.app import create_app
from ucwa_nb.sim.operations import OPERATIONS
from ucwa_nb.sim.routes.operations import SimOperation, on_conversation
from ucwa_nb.sim.rules import offers
from ucwa_nb.sim.rules.offers import Offer
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenarios import default
from ucwa_nb.sim.state import ConversationState, Target

ALICE = ("alice@contoso.com", "ucwa-demo")


def test_the_table_serves_every_protocol_operation_and_markasread() -> None:
    served = [op.spec.rel for op in OPERATIONS]
    assert sorted(served) == sorted([*SPECS, "markAsRead"])
    assert all(op.spec is SPECS[op.spec.rel] for op in OPERATIONS if op.spec.rel in SPECS)


def test_each_row_is_offered_by_the_resource_its_spec_names() -> None:
    on = {"phoneAudio": offers.PHONE_AUDIO_OFFERS,
          "conversationLog": offers.CONVERSATION_LOG_OFFERS,
          "phoneAudioInvitation": offers.INVITATION_OFFERS,
          "communication": offers.COMMUNICATION_OFFERS}
    for op in OPERATIONS:
        assert op.offer in on[op.spec.acts_on], op.spec.rel
        assert op.offer is offers.OFFERS[op.spec.rel]


def test_the_operations_that_start_a_call_are_those_that_create_an_invitation() -> None:
    assert offers.CALL_OPERATIONS == ("addPhoneAudio", "continuePhoneAudio", "startPhoneAudio")


# ---------------------------------------------------------------------- a new operation


def _tones(value: str, _: CheckContext) -> str | None:
    bad = sorted(set(value) - set("0123456789*#ABCD"))
    return f"not a DTMF tone: {''.join(bad)}" if bad else None


SEND_DTMF = OperationSpec(
    "sendDtmf", "Send touch tones on the call.", acts_on="phoneAudio",
    reached_from="phoneAudioInvitation", path=("phoneAudio",),
    fields=(InputField("tones", "tones", "the tones to send, 0-9, *, # and A-D",
                       required=True, check=_tones),))


@dataclass
class Served:
    """A simulator's app serving the table plus sendDtmf, with Alice signed in."""

    app: Starlette
    token: str
    url: str  # sendDtmf on the phoneAudio of Alice's conversation 1
    sent: list[dict[str, Any]]  # what the rule was given

    def post(self, url: str, body: dict[str, Any]) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                         base_url="http://sim") as client:
                return await client.post(url, json=body,
                                         headers={"Authorization": f"Bearer {self.token}"})

        # On a thread of its own: the browser tests leave an event loop on the main thread.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(lambda: asyncio.run(send())).result(timeout=60)


@pytest.fixture
def dtmf(monkeypatch: pytest.MonkeyPatch) -> Served:
    sent: list[dict[str, Any]] = []

    def send_dtmf(_: World, target: Target[ConversationState],
                  values: Mapping[str, str]) -> None:
        sent.append({"conversation": target.resource.id, **values})

    row = SimOperation(Offer(SEND_DTMF, lambda conv: True), on_conversation, send_dtmf)
    monkeypatch.setitem(paths.TEMPLATES, "sendDtmf", paths.TEMPLATES["phoneAudio"] + "/sendDtmf")
    world = World(default())
    token = world.issue_token(*ALICE)
    assert token is not None
    app, _ = world.create_application(token, {"userAgent": "t", "endpointId": "e",
                                              "culture": "en-US"})
    return Served(create_app(world, operations=(*OPERATIONS, row)), token.value,
                  paths.path("sendDtmf", app=app.id, conv="1"), sent)


def test_a_new_operation_refuses_a_bad_value_by_its_field(dtmf: Served) -> None:
    for body, problem in (({"tones": "12x"}, "not a DTMF tone: x"),
                          ({"tones": 12}, "This parameter must be a string."),
                          ({}, "required: the tones to send, 0-9, *, # and A-D")):
        response = dtmf.post(dtmf.url, body)
        assert response.status_code == 400
        reason = reason_of(response.content, response.headers["content-type"])
        assert reason is not None
        assert reason.subcode == "ParameterValidationFailure"
        assert reason.parameters == {"tones": problem}
    assert dtmf.sent == []


def test_a_new_operation_reaches_its_rule_with_a_good_value(dtmf: Served) -> None:
    response = dtmf.post(dtmf.url, {"Tones": "12#", "other": "ignored"})
    assert response.status_code == 204
    assert dtmf.sent == [{"conversation": "1", "tones": "12#"}]
    missing = dtmf.url.replace("/conversations/1/", "/conversations/99/")
    assert dtmf.post(missing, {"tones": "1"}).status_code == 404
