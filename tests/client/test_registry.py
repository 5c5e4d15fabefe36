"""The call registry: calls found by operationId, else by their invitation's location."""

from __future__ import annotations

from ucwa_nb import PhoneAudioCall
from ucwa_nb.client.registry import CallRegistry

INVITATION = "https://fe1.contoso.com/ucwa/v1/applications/1/communication/invitations/7"


def test_find_by_operation_id_then_by_location() -> None:
    calls = CallRegistry()
    first = PhoneAudioCall("op-1", "addPhoneAudio", None)
    second = PhoneAudioCall("op-2", "startPhoneAudio", None)
    second.location = INVITATION
    calls.add(first)
    calls.add(second)
    assert calls.find("op-1", INVITATION) is first  # the operationId wins
    assert calls.find(None, INVITATION) is second  # an event without operationId
    assert calls.find("unknown", None) is None
    calls.discard(second)
    calls.discard(second)  # twice is harmless
    assert calls.find(None, INVITATION) is None
    assert calls.all() == [first]
