"""makeMeAvailable (makeMeAvailable_ref, ucwa-protocol.md 1.7): what it accepts, refuses and
changes. When it is offered is stated in ``offers.me_operations``.
"""

from __future__ import annotations

from typing import Any

from ucwa_nb.protocol.phone import NormalizationError
from ucwa_nb.protocol.rules import dialled_number
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.rules import notify, offers
from ucwa_nb.sim.rules.operation_input import case_insensitive
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.state import ApplicationState

__all__ = ["make_me_available"]

AVAILABLE_FIELDS = ("phoneNumber", "signInAs", "supportedModalities", "audioPreference",
                    "inactiveTimeout", "supportedMessageFormats",
                    "voipFallbackToPhoneAudioTimeOut")
SIGN_IN_AS = ("Online", "Busy", "DoNotDisturb", "BeRightBack", "Away", "Offwork")
# makeMeAvailable_ref: 403 for modalities other than these (ucwa-protocol.md 1.7).
AVAILABLE_MODALITIES = ("Messaging", "PhoneAudio")


def make_me_available(world: World, app: ApplicationState, props: dict[str, Any]) -> None:
    """makeMeAvailable: 204, once per application (409 AlreadyExists the second time).

    Every input is optional. The phoneNumber is normalised but never rung; it becomes
    communication's phoneNumber and the default number of the phone-audio operations. The
    supportedModalities (the *incoming* modalities of interest) become communication's;
    they do not decide which calls the user may start (``offers.can_start_phone_audio``).
    """
    world.check_fault("makeMeAvailable", app.user)
    if "makeMeAvailable" not in offers.me_operations(app):
        raise SimError(409, "Conflict", "AlreadyExists",
                       "makeMeAvailable was already called for this application.")
    values = case_insensitive(props, AVAILABLE_FIELDS)
    problems: dict[str, str] = {}
    for name in ("phoneNumber", "signInAs", "audioPreference"):
        if values.get(name) is not None and not isinstance(values[name], str):
            problems[name] = "This parameter must be a string."
    if isinstance(values.get("signInAs"), str) and values["signInAs"] not in SIGN_IN_AS:
        problems["signInAs"] = "This parameter must be one of " + ", ".join(SIGN_IN_AS) + "."
    modalities = values.get("supportedModalities", [])
    if isinstance(modalities, str):
        modalities = [modalities]  # a single XML <property> instead of a <propertyList>
    if not isinstance(modalities, list) or not all(isinstance(m, str) for m in modalities):
        problems["supportedModalities"] = "This parameter must be a list of modalities."
        modalities = []
    number = values.get("phoneNumber")
    normalized: str | None = None
    if isinstance(number, str) and number.strip():
        try:
            normalized = dialled_number(number, app.user.spec.region,
                                        lenient_spacing=world.settings.lenient_uri_spacing)
        except NormalizationError as exc:
            # [infer] the page lists no NormalizationFailed: a bad number is a bad parameter.
            problems["phoneNumber"] = f"The phone number cannot be normalised: {exc}"
    if problems:
        raise SimError(400, "BadRequest", "ParameterValidationFailure", parameters=problems)
    other = [m for m in modalities if m not in AVAILABLE_MODALITIES]
    if other:
        raise SimError(403, "Forbidden", None,
                       "Only the Messaging and PhoneAudio modalities can be made available, "
                       "not " + ", ".join(other) + ".")
    # makeMeAvailable_ref lists 500 CallbackChannelError ("The remote event channel is not
    # reachable"), but GetMyPresenceInformation.md (and the samples' sign-in) POSTs it right
    # after creating the application, before any event poll, and expects 204: only a
    # channel that was started and then let go is refused.
    world.require_unlost_channel(app)
    app.available_modalities = list(modalities)
    app.phone_number = normalized
    notify.communication_changed(world, app)
    notify.me_changed(world, app)
