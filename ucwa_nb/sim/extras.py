"""Where the simulator's other links lead, beyond the add/continuePhoneAudio slice of app.py.

Every link a client is shown must work (Hypermedia.md: clients follow hrefs, a missing link
means "not possible now"), so each link ``render.py`` puts out either leads to one of these
routes or is not rendered at all:

* phone audio: ``startPhoneAudio`` on communication (startPhoneAudio_ref), ``holdPhoneAudio``
  and ``resumePhoneAudio`` on a connected phoneAudio (holdPhoneAudio_ref, phoneAudio_ref),
  whose rules are in ``phone_audio.py``;
* me: ``makeMeAvailable`` (makeMeAvailable_ref, ucwa-protocol.md 1.7) and ``phones``
  (phones_ref);
* the application's ``policies`` (policies_ref) and its embedded ``people`` and
  ``onlineMeetings``, which offer no capability of their own here;
* a conversation's ``messaging`` (state only: the simulator sends no messages);
* a conversation log's recipients (conversationLogRecipient_ref) and ``markAsRead``
  (markAsRead_ref).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ucwa_nb.protocol.phone import NormalizationError
from ucwa_nb.protocol.representation import Event, Link, Resource
from ucwa_nb.protocol.rules import dialled_number
from ucwa_nb.sim import phone_audio, render
from ucwa_nb.sim.channel import Priority
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import Handler, Plumbing, read_body, read_input, ucwa_response
from ucwa_nb.sim.state import Application, Conversation, ConversationLog, Token
from ucwa_nb.sim.world import World, case_insensitive

__all__ = ["make_me_available", "routes"]

AVAILABLE_FIELDS = ("phoneNumber", "signInAs", "supportedModalities", "audioPreference",
                    "inactiveTimeout", "supportedMessageFormats",
                    "voipFallbackToPhoneAudioTimeOut")
SIGN_IN_AS = ("Online", "Busy", "DoNotDisturb", "BeRightBack", "Away", "Offwork")
# makeMeAvailable_ref: 403 for modalities other than these (ucwa-protocol.md 1.7).
AVAILABLE_MODALITIES = ("Messaging", "PhoneAudio")


# ---------------------------------------------------------------------- rules


def make_me_available(world: World, app: Application, props: dict[str, Any]) -> None:
    """makeMeAvailable: 204, once per application (409 AlreadyExists the second time).

    Every input is optional. The phoneNumber is normalised but never rung; it becomes
    communication's phoneNumber and the default number of the phone-audio operations. The
    supportedModalities become communication's; without PhoneAudio, startPhoneAudio is 403.
    """
    world.check_fault("makeMeAvailable", app.user)
    if app.available_modalities is not None:
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
    if not app.channel.live(world.settings.callback_grace):
        raise SimError(500, "ServiceFailure", "CallbackChannelError")
    app.available_modalities = list(modalities)
    app.phone_number = normalized
    comm = render.communication(app)
    assert comm.href is not None
    # communication_ref: updated, Medium, e.g. after makeMeAvailable.
    world.emit(app, "communication", comm.href,
               Event("updated", Link("communication", comm.href),
                     embedded={"communication": [comm]}), Priority.MEDIUM)


# ---------------------------------------------------------------------- representations


def policies(app: Application) -> Resource:
    # A few of policies_ref's properties, with the values this simulated pool has [infer].
    return Resource("policies", f"{render.app_path(app)}/policies", {
        "emoticons": "Disabled",
        "htmlMessaging": "Disabled",
        "messagingUrls": "Disabled",
        "photos": "Disabled",
        "callLogArchiving": "Disabled",
        "messageArchiving": "Disabled",
        "logging": "Disabled",
        "exchangeUnifiedMessaging": "Disabled",
    }, {})


def phone(app: Application) -> Resource:
    number = app.user.spec.phone
    return Resource("phone", f"{render.app_path(app)}/me/phones/work",
                    {"number": number, "type": "Work", "includeInContactCard": True}, {})


def phones(app: Application) -> Resource:
    # phones_ref: read/write in general; here read-only (no changeNumber/changeVisibility).
    embedded = {"phone": [phone(app)]} if app.user.spec.phone else {}
    return Resource("phones", f"{render.app_path(app)}/me/phones", {}, {}, embedded)


def messaging(app: Application, conv: Conversation) -> Resource:
    # [infer] The messaging modality's state follows the conversation's modalities; it offers
    # no capability (addMessaging, sendMessage, ...): the simulator carries no messages.
    base = render.conversation_path(app, conv)
    connected = "Messaging" in conv.modalities and conv.state != "Disconnected"
    return Resource("messaging", f"{base}/messaging",
                    {"state": "Connected" if connected else "Disconnected"},
                    {"conversation": [Link("conversation", base)]})


# ---------------------------------------------------------------------- routes


def routes(world: World, p: Plumbing) -> list[Route]:
    def log_of(request: Request) -> tuple[Token, Application, ConversationLog]:
        token, app = p.app_of(request)
        log = app.user.logs.get(request.path_params["log"])
        if log is None:
            raise SimError(404, "NotFound", None)
        return token, app, log

    async def start_phone_audio(request: Request) -> Response:
        token, app = p.app_of(request)
        props = await read_input(request, p.max_body)
        return p.created(phone_audio.start_phone_audio(world, token, app, props))

    async def hold(request: Request) -> Response:
        _, app, conv = p.conversation_of(request)
        await read_body(request, p.max_body)
        phone_audio.hold_phone_audio(world, app, conv, hold=True)
        return Response(status_code=204)

    async def resume(request: Request) -> Response:
        _, app, conv = p.conversation_of(request)
        await read_body(request, p.max_body)
        phone_audio.hold_phone_audio(world, app, conv, hold=False)
        return Response(status_code=204)

    async def available(request: Request) -> Response:
        _, app = p.app_of(request)
        props = await read_input(request, p.max_body)
        make_me_available(world, app, props)
        return Response(status_code=204)

    async def get_phones(request: Request) -> Response:
        _, app = p.app_of(request)
        return ucwa_response(request, phones(app))

    async def get_phone(request: Request) -> Response:
        _, app = p.app_of(request)
        if request.path_params["phone"] != "work" or not app.user.spec.phone:
            raise SimError(404, "NotFound", None)
        return ucwa_response(request, phone(app))

    async def get_policies(request: Request) -> Response:
        _, app = p.app_of(request)
        return ucwa_response(request, policies(app))

    def embedded_in_application(rel: str) -> Handler:
        async def get(request: Request) -> Response:
            _, app = p.app_of(request)
            return ucwa_response(request, render.application(app).embedded[rel][0])

        return get

    async def get_messaging(request: Request) -> Response:
        _, app, conv = p.conversation_of(request)
        return ucwa_response(request, messaging(app, conv))

    async def recipient(request: Request) -> Response:
        _, app, log = log_of(request)
        uri = "sip:" + request.path_params["recipient"]
        if uri not in log.spec.recipients:
            raise SimError(404, "NotFound", None)
        return ucwa_response(request, render.log_recipient(app, log, uri, world.scenario))

    async def mark_as_read(request: Request) -> Response:
        _, app, _log = log_of(request)
        await read_body(request, p.max_body)
        world.check_fault("markAsRead", app.user)
        return Response(status_code=204)  # [infer] no read state is shown anywhere

    g = p.guarded
    a = render.APPLICATIONS + "/{app}"
    c = a + "/communication"
    pa = c + "/conversations/{conv}/phoneAudio"
    return [
        Route(c + "/startPhoneAudio", g(start_phone_audio), methods=["POST"]),
        Route(pa + "/holdPhoneAudio", g(hold), methods=["POST"]),
        Route(pa + "/resumePhoneAudio", g(resume), methods=["POST"]),
        Route(a + "/me/makeMeAvailable", g(available), methods=["POST"]),
        Route(a + "/me/phones", g(get_phones), methods=["GET"]),
        Route(a + "/me/phones/{phone}", g(get_phone), methods=["GET"]),
        Route(a + "/policies", g(get_policies), methods=["GET"]),
        Route(a + "/people", g(embedded_in_application("people")), methods=["GET"]),
        Route(a + "/onlineMeetings", g(embedded_in_application("onlineMeetings")),
              methods=["GET"]),
        Route(c + "/conversations/{conv}/messaging", g(get_messaging), methods=["GET"]),
        Route(c + "/conversationLogs/{log}/recipients/{recipient}", g(recipient),
              methods=["GET"]),
        Route(c + "/conversationLogs/{log}/markAsRead", g(mark_as_read), methods=["POST"]),
    ]
