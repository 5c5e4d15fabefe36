"""The call controls (``widgets/call_controls.py``): one button per operation on a call, from
the operation table, with a text box per input field for an operation that takes input."""

from __future__ import annotations

from typing import Any

import pytest

from ucwa_nb.client.call import PhoneAudioCall
from ucwa_nb.protocol import operations as protocol_operations
from ucwa_nb.protocol.operations import CheckContext, InputField, OperationSpec
from ucwa_nb.widgets._common import WidgetLock
from ucwa_nb.widgets.call_controls import CallControls


def _tones(value: str, _: CheckContext) -> str | None:
    return None if set(value) <= set("0123456789*#") else "only 0-9, * and #"


# A new operation on a call that takes input, as a reader of ARCHITECTURE.md would add it to
# protocol/operations.py: the controls need nothing else.
SEND_DTMF = OperationSpec(
    "sendDtmf", "Send touch tones on the connected call.", acts_on="phoneAudio",
    reached_from="phoneAudioInvitation", path=("phoneAudio",),
    fields=(InputField("tones", "tones", "the tones to send, e.g. 12#", required=True,
                       check=_tones),))


class FakeCall(PhoneAudioCall):
    """A call whose server offers ``offered`` and records what was performed."""

    def __init__(self, offered: tuple[str, ...]) -> None:
        super().__init__("op-1", "addPhoneAudio", "sip:john@contoso.com")
        self.offered = offered
        self.performed: list[tuple[str, dict[str, Any]]] = []

    def offered_operations(self) -> tuple[str, ...]:
        return self.offered

    def perform(self, operation: OperationSpec | str, **values: str | None) -> None:
        rel = operation if isinstance(operation, str) else operation.rel
        self.performed.append((rel, values))


@pytest.fixture
def with_send_dtmf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(protocol_operations.OPERATIONS, "sendDtmf", SEND_DTMF)


def shown(controls: CallControls) -> tuple[str, ...]:
    """What is on show now (a function: mypy would narrow a property across asserts)."""
    return controls.shown


def _controls() -> tuple[CallControls, list[str], list[BaseException]]:
    acted: list[str] = []
    errors: list[BaseException] = []
    return CallControls(WidgetLock(), acted=acted.append, show_error=errors.append), acted, errors


@pytest.mark.usefixtures("with_send_dtmf")
def test_an_operation_with_input_gets_its_button_and_boxes_from_the_table() -> None:
    controls, acted, errors = _controls()
    assert list(controls.buttons) == ["stopPhoneAudio", "holdPhoneAudio", "resumePhoneAudio",
                                      "cancel", "sendDtmf"]
    assert list(controls.inputs["sendDtmf"]) == ["tones"]
    assert controls.inputs["sendDtmf"]["tones"].tooltip == "the tones to send, e.g. 12#"
    assert controls.inputs["holdPhoneAudio"] == {}
    call = FakeCall(offered=("stopPhoneAudio", "sendDtmf"))
    controls.follow(call)
    assert shown(controls) == ()  # until the links are read
    controls.read()
    assert shown(controls) == ("stopPhoneAudio", "sendDtmf")
    controls.inputs["sendDtmf"]["tones"].value = "12#"
    controls.buttons["sendDtmf"].click()
    assert call.performed == [("sendDtmf", {"tones": "12#"})]
    assert acted == ["sendDtmf"]
    assert errors == []


def test_a_button_is_shown_only_while_its_link_is_offered() -> None:
    controls, _, _ = _controls()
    call = FakeCall(offered=("stopPhoneAudio", "holdPhoneAudio"))
    controls.follow(call)
    controls.read()
    assert shown(controls) == ("stopPhoneAudio", "holdPhoneAudio")
    call.offered = ("stopPhoneAudio", "resumePhoneAudio")
    controls.buttons["holdPhoneAudio"].click()  # reads the links again after acting
    assert shown(controls) == ("stopPhoneAudio", "resumePhoneAudio")
    call.offered = ()
    controls.read()
    assert shown(controls) == ()
