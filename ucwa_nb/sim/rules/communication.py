"""PUT communication (communication_ref): the conditional update of the communication
dashboard, with the GUID-named property and the ETag every PUT needs (PayloadFormat).

PayloadFormat: "all resources that support the PUT method include a property with a
randomly-generated name and a string value ... will check for the presence of this property in
each PUT request. If it is missing, the request will be rejected with a validation error";
"requires that all PUT requests be conditional (with the If-Match: "{ETag value}" HTTP
header). Requests without the header will be rejected with HTTP code 428 / Precondition
Required. If the ETag does not match the server version, the request will be rejected with
HTTP code 412 / Precondition Failed."
"""

from __future__ import annotations

from typing import Any

from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.rules import notify
from ucwa_nb.sim.rules.operation_input import case_insensitive
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.state import ApplicationState

__all__ = ["etag", "put_communication"]

MAX_PHONE_NUMBER = 100  # communication_ref: phoneNumber "The maximum length is 100 characters"
# communication_ref's PUT body: the values each property takes.
CHOICES: dict[str, tuple[str, ...]] = {
    "audioPreference": ("PhoneAudio", "VoipAudio"),
    "conversationHistory": ("None", "Disabled", "Enabled"),
}
LIST_CHOICES: dict[str, tuple[str, ...]] = {
    "supportedMessageFormats": ("Plain", "Html"),
    "supportedModalities": ("Audio", "Video", "PhoneAudio", "ApplicationSharing", "Messaging",
                            "DataCollaboration", "PanoramicVideo"),
}


def etag(app: ApplicationState) -> str:
    return f'"{app.communication_etag}"'


def put_communication(world: World, app: ApplicationState, if_match: str | None,
                      props: dict[str, Any]) -> None:
    """Apply a PUT; the caller answers 200 with the new ETag. Other properties of the body
    (lisLocation, links, ...) are ignored, as PayloadFormat says of input."""
    if if_match is None:
        raise SimError(428, "PreconditionRequired", None,
                       "The operation requires an If-Match precondition.")
    if if_match.strip() not in (etag(app), etag(app).strip('"'), "*"):
        raise SimError(412, "PreconditionFailed", None, "An If-Match precondition was not met.")
    if props.get(app.communication_guid) is None:
        raise SimError(400, "BadRequest", "ParameterValidationFailure", parameters={
            app.communication_guid: "This property of the resource must be passed back."})
    values = case_insensitive(props, ("phoneNumber", *CHOICES, *LIST_CHOICES))
    problems: dict[str, str] = {}
    for name, allowed in CHOICES.items():
        value = values.get(name)
        if value is not None and value not in allowed:
            problems[name] = "This parameter must be one of " + ", ".join(allowed) + "."
    for name, allowed in LIST_CHOICES.items():
        value = values.get(name)
        if isinstance(value, str):
            value = values[name] = [value]  # one XML <property> instead of a <propertyList>
        if value is not None and (not isinstance(value, list)
                                  or not all(item in allowed for item in value)):
            problems[name] = "This parameter must be a list of " + ", ".join(allowed) + "."
    number = values.get("phoneNumber")
    if number is not None and (not isinstance(number, str) or len(number) > MAX_PHONE_NUMBER):
        problems["phoneNumber"] = f"The maximum length is {MAX_PHONE_NUMBER} characters."
    if problems:
        raise SimError(400, "BadRequest", "ParameterValidationFailure", parameters=problems)
    app.communication_put.update({k: v for k, v in values.items() if v is not None})
    app.communication_etag += 1
    notify.communication_changed(world, app)
