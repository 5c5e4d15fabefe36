"""Turn simulator state into UCWA resources, with the links that are possible right now.

Paths follow the real traces in the docs (``/ucwa/oauth/v1/applications/<id>/...``,
phoneAudio under its conversation); see ucwa-protocol.md sections 1 and 8.
"""

from __future__ import annotations

from ucwa_nb.representation import Link, Resource
from ucwa_nb.sim.scenario import Scenario
from ucwa_nb.sim.state import Application, Conversation, ConversationLog, Invitation

__all__ = [
    "APPLICATIONS",
    "ROOT",
    "TOKEN",
    "USER",
    "app_path",
    "application",
    "communication",
    "conversation",
    "conversation_log",
    "conversation_logs",
    "conversations",
    "invitation",
    "participant",
    "participants",
    "phone_audio",
    "root",
    "user",
]

ROOT = "/autodiscover/autodiscoverservice.svc/root"
USER = ROOT + "/oauth/user"
XFRAME = "/autodiscover/xframe/xframe.html"
TOKEN = "/WebTicket/oauthtoken"
APPLICATIONS = "/ucwa/oauth/v1/applications"


def _links(*pairs: tuple[str, str]) -> dict[str, list[Link]]:
    return {rel: [Link(rel, href)] for rel, href in pairs}


def app_path(app: Application) -> str:
    return f"{APPLICATIONS}/{app.id}"


def root() -> Resource:
    return Resource("root", ROOT, {}, _links(("user", USER), ("xframe", XFRAME)))


def user() -> Resource:
    return Resource("user", USER, {}, _links(("applications", APPLICATIONS), ("xframe", XFRAME)))


def me(app: Application) -> Resource:
    base = app_path(app)
    spec = app.user.spec
    props = {"name": spec.name, "uri": spec.uri}
    if spec.phone:
        props["workPhoneNumber"] = spec.phone
    return Resource("me", f"{base}/me", props, _links(
        ("makeMeAvailable", f"{base}/me/makeMeAvailable"),
        ("phones", f"{base}/me/phones"),
        ("photo", f"{base}/photos/{spec.username}"),
    ))


def communication(app: Application) -> Resource:
    base = f"{app_path(app)}/communication"
    return Resource(
        "communication",
        base,
        {
            "phoneNumber": app.user.spec.phone,
            "audioPreference": "PhoneAudio",
            "conversationHistory": "Enabled",
            "supportedModalities": ["PhoneAudio"],
            "supportedMessageFormats": ["Plain"],
        },
        _links(
            ("conversations", f"{base}/conversations?filter=active"),
            ("conversationLogs", f"{base}/conversationLogs"),
            ("startPhoneAudio", f"{base}/phoneAudioInvitations"),
        ),
    )


def application(app: Application) -> Resource:
    base = app_path(app)
    props: dict[str, object] = {
        "culture": app.culture,
        "userAgent": app.user_agent,
        "type": "Browser",
        "endpointId": app.endpoint_id,
        "id": app.id,
    }
    if app.instance_id is not None:
        props["instanceId"] = app.instance_id
    return Resource(
        "application",
        base,
        props,
        _links(
            ("policies", f"{base}/policies"),
            ("batch", f"{base}/batch"),
            ("events", f"{base}/events?ack=1"),
        ),
        {
            "me": [me(app)],
            "people": [Resource("people", f"{base}/people", {}, {})],
            "onlineMeetings": [Resource("onlineMeetings", f"{base}/onlineMeetings", {}, {})],
            "communication": [communication(app)],
        },
    )


def conversation_path(app: Application, conv: Conversation) -> str:
    return f"{app_path(app)}/communication/conversations/{conv.id}"


def conversations(app: Application) -> Resource:
    base = f"{app_path(app)}/communication/conversations"
    links: dict[str, list[Link]] = {
        "conversation": [
            Link("conversation", conversation_path(app, c))
            for c in app.user.conversations.values()
            if c.state != "Disconnected"
        ]
    }
    if not links["conversation"]:
        links = {}
    return Resource("conversations", base + "?filter=active", {}, links)


def conversation(app: Application, conv: Conversation) -> Resource:
    base = conversation_path(app, conv)
    modalities = list(conv.modalities)
    if conv.phone_audio_state == "Connected" and "PhoneAudio" not in modalities:
        modalities.append("PhoneAudio")
    return Resource(
        "conversation",
        base,
        {
            "state": conv.state,
            "subject": conv.subject,
            "threadId": conv.thread_id,
            "importance": conv.importance,
            "activeModalities": modalities,
            "participantCount": len(conv.participants) + 1,
            "created": conv.created,
            "readLocally": True,
            "recording": False,
        },
        _links(
            ("phoneAudio", f"{base}/phoneAudio"),
            ("participants", f"{base}/participants"),
            ("localParticipant", f"{base}/participants/me"),
            ("messaging", f"{base}/messaging"),
        ),
    )


def participant(app: Application, conv: Conversation, uri: str, scenario: Scenario) -> Resource:
    contact = scenario.contact(uri)
    known_user = scenario.user(uri)
    name = contact.name if contact else (known_user.name if known_user else uri.split(":")[-1])
    base = conversation_path(app, conv)
    key = uri.removeprefix("sip:")
    return Resource(
        "participant",
        f"{base}/participants/{key}",
        {"name": name, "uri": uri, "local": False, "anonymous": False,
         "sourceNetwork": "SameEnterprise"},
        _links(("contact", f"{app_path(app)}/people/{key}"), ("conversation", base)),
    )


def participants(app: Application, conv: Conversation, scenario: Scenario) -> Resource:
    base = conversation_path(app, conv)
    people = [participant(app, conv, uri, scenario) for uri in conv.participants]
    links = {"participant": [Link("participant", p.href or "") for p in people]}
    return Resource("participants", f"{base}/participants", {}, links if people else {},
                    {"participant": people} if people else {})


def phone_audio(app: Application, conv: Conversation) -> Resource:
    base = f"{conversation_path(app, conv)}/phoneAudio"
    links = [("conversation", conversation_path(app, conv))]
    # Capability links [infer, ucwa-protocol.md 3.1]: add while nothing is under way, stop
    # while connecting or connected, hold while connected.
    if conv.phone_audio_state == "Disconnected":
        links.append(("addPhoneAudio", f"{base}/addPhoneAudio"))
    if conv.phone_audio_state in ("Connecting", "Connected"):
        links.append(("stopPhoneAudio", f"{base}/stopPhoneAudio"))
    if conv.phone_audio_state == "Connected":
        links.append(("holdPhoneAudio", f"{base}/holdPhoneAudio"))
    return Resource("phoneAudio", base, {"state": conv.phone_audio_state}, _links(*links))


def log_path(app: Application, log: ConversationLog) -> str:
    return f"{app_path(app)}/communication/conversationLogs/{log.id}"


def conversation_logs(app: Application, limit: int | None = None) -> Resource:
    base = f"{app_path(app)}/communication/conversationLogs"
    logs = sorted(app.user.logs.values(), key=lambda log: log.spec.created, reverse=True)
    if limit is not None:
        logs = logs[:limit]
    links = {"conversationLog": [Link("conversationLog", log_path(app, log)) for log in logs]}
    return Resource("conversationLogs", base, {}, links if logs else {})


def conversation_log(app: Application, log: ConversationLog, scenario: Scenario) -> Resource:
    base = log_path(app, log)
    spec = log.spec
    recipients = []
    for uri in spec.recipients:
        contact = scenario.contact(uri)
        key = uri.removeprefix("sip:")
        recipients.append(Resource(
            "conversationLogRecipient",
            f"{base}/recipients/{key}",
            {"displayName": contact.name if contact else key, "sipUri": uri},
            _links(("contact", f"{app_path(app)}/people/{key}")),
        ))
    links = [
        ("continueMessaging", f"{base}/continueMessaging"),
        ("conversationLogTranscripts", f"{base}/transcripts"),
        ("markAsRead", f"{base}/markAsRead"),
    ]
    if log.call is None or not log.call.in_progress:
        links.insert(0, ("continuePhoneAudio", f"{base}/continuePhoneAudio"))
    properties: dict[str, object] = {
        "creationTime": spec.created,
        "direction": spec.direction,
        "importance": spec.importance,
        "modalities": list(spec.modalities),
        "status": spec.status,
        "subject": spec.subject,
        "threadId": log.thread_id,
        "totalRecipientsCount": len(spec.recipients),
        "type": spec.type,
    }
    if spec.preview:
        properties["previewMessage"] = spec.preview
    return Resource("conversationLog", base, properties, _links(*links),
                    {"conversationLogRecipient": recipients})


def invitation_path(inv: Invitation) -> str:
    return f"{app_path(inv.app)}/communication/phoneAudioInvitations/{inv.id}"


def invitation(inv: Invitation, scenario: Scenario) -> Resource:
    app = inv.app
    base = invitation_path(inv)
    conv = inv.conversation
    props: dict[str, object] = {
        "direction": "Outgoing",
        "importance": "Normal",
        "state": inv.state,
        "subject": conv.subject,
        "threadId": conv.thread_id,
        "to": inv.to,
        "phoneNumber": inv.phone_number,
        "joinAudioMuted": False,
        "privateLine": False,
    }
    if inv.operation_id is not None:
        props["operationId"] = inv.operation_id
    links = [
        ("conversation", conversation_path(app, conv)),
        ("phoneAudio", f"{conversation_path(app, conv)}/phoneAudio"),
        ("to", f"{app_path(app)}/people/{inv.to.removeprefix('sip:')}"),
        ("from", f"{conversation_path(app, conv)}/participants/me"),
    ]
    if inv.in_progress:
        links.insert(0, ("cancel", f"{base}/cancel"))
    embedded = {}
    if inv.accepted_by is not None:
        embedded["acceptedByParticipant"] = [participant(app, conv, inv.accepted_by, scenario)]
    return Resource("phoneAudioInvitation", base, props, _links(*links), embedded)
