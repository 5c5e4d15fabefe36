"""Turn simulator state into UCWA resources, with the links that are possible right now.

Paths follow the real traces in the docs (``/ucwa/oauth/v1/applications/<id>/...``,
phoneAudio under its conversation); see ucwa-protocol.md sections 1 and 8.
"""

from __future__ import annotations

from ucwa_nb.protocol.representation import Link, Resource
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
    "contact_links",
    "conversation",
    "conversation_log",
    "conversation_logs",
    "conversations",
    "invitation",
    "local_participant",
    "local_participant_path",
    "log_recipient",
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


def contact_links(app: Application, uri: str, scenario: Scenario,
                  rel: str = "contact") -> list[tuple[str, str]]:
    """The link to a person's contact resource, if the world knows the person (people/<uri>
    answers only for them: a link to anyone else would lead nowhere)."""
    if scenario.contact(uri) is None and scenario.user(uri) is None:
        return []
    return [(rel, f"{app_path(app)}/people/{uri.removeprefix('sip:')}")]


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
    links = [("phones", f"{base}/me/phones")]
    # [infer] MeDashboard.md: makeMeAvailable is offered until the application is available.
    # No photo link: the simulated users have none (policies say photos are disabled).
    if app.available_modalities is None:
        links.insert(0, ("makeMeAvailable", f"{base}/me/makeMeAvailable"))
    return Resource("me", f"{base}/me", props, _links(*links))


def communication(app: Application) -> Resource:
    base = f"{app_path(app)}/communication"
    return Resource(
        "communication",
        base,
        {
            "phoneNumber": app.phone_number or app.user.spec.phone,
            "audioPreference": "PhoneAudio",
            "conversationHistory": "Enabled",
            "supportedModalities": (["PhoneAudio"] if app.available_modalities is None
                                    else list(app.available_modalities)),
            "supportedMessageFormats": ["Plain"],
        },
        _links(
            ("conversations", f"{base}/conversations?filter=active"),
            ("conversationLogs", f"{base}/conversationLogs"),
            ("startPhoneAudio", f"{base}/startPhoneAudio"),
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
            # No batch link: the simulator does not take multipart batches (batch_ref).
            ("policies", f"{base}/policies"),
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
            ("localParticipant", local_participant_path(app, conv)),
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
        _links(*contact_links(app, uri, scenario), ("conversation", base)),
    )


def local_participant_path(app: Application, conv: Conversation) -> str:
    # [infer] keyed like the remote participants, by the user's own SIP URI.
    return f"{conversation_path(app, conv)}/participants/{app.user.key}"


def local_participant(app: Application, conv: Conversation) -> Resource:
    """The user in a conversation (localParticipant_ref; also an invitation's ``from``,
    from_ref). Its rel is participant, as embedded in the reference samples; the samples'
    rels "localParticipant" and "from" name the link that led there [infer]."""
    spec = app.user.spec
    props: dict[str, object] = {"name": spec.name, "uri": spec.uri, "local": True,
                                "anonymous": False, "sourceNetwork": "SameEnterprise"}
    if spec.phone:
        props["workPhoneNumber"] = spec.phone
    return Resource("participant", local_participant_path(app, conv), props, _links(
        ("contact", f"{app_path(app)}/people/{app.user.key}"),
        ("conversation", conversation_path(app, conv)),
        ("me", f"{app_path(app)}/me"),
    ))


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
    # while connecting or connected, hold while connected, resume while held.
    if conv.phone_audio_state == "Disconnected":
        links.append(("addPhoneAudio", f"{base}/addPhoneAudio"))
    if conv.phone_audio_state in ("Connecting", "Connected"):
        links.append(("stopPhoneAudio", f"{base}/stopPhoneAudio"))
    if conv.phone_audio_state == "Connected":
        if conv.on_hold:
            links.append(("resumePhoneAudio", f"{base}/resumePhoneAudio"))
        else:
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
    recipients = [log_recipient(app, log, uri, scenario) for uri in spec.recipients]
    # No continueMessaging nor conversationLogTranscripts: the simulator has no messaging
    # and keeps no transcripts, so they would lead nowhere.
    links = [("markAsRead", f"{base}/markAsRead")]
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


def log_recipient(app: Application, log: ConversationLog, uri: str,
                  scenario: Scenario) -> Resource:
    contact = scenario.contact(uri)
    key = uri.removeprefix("sip:")
    return Resource(
        "conversationLogRecipient",
        f"{log_path(app, log)}/recipients/{key}",
        {"displayName": contact.name if contact else key, "sipUri": uri},
        _links(*contact_links(app, uri, scenario)),
    )


def invitation_path(inv: Invitation) -> str:
    return f"{app_path(inv.app)}/communication/phoneAudioInvitations/{inv.id}"


def invitation(inv: Invitation, scenario: Scenario) -> Resource:
    app = inv.app
    base = invitation_path(inv)
    conv = inv.conversation
    props: dict[str, object] = {
        "direction": "Outgoing",
        "importance": conv.importance,
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
        *contact_links(app, inv.to, scenario, "to"),
        ("from", local_participant_path(app, conv)),
    ]
    if inv.in_progress:
        links.insert(0, ("cancel", f"{base}/cancel"))
    embedded = {"from": [local_participant(app, conv)]}
    if inv.accepted_by is not None:
        embedded["acceptedByParticipant"] = [participant(app, conv, inv.accepted_by, scenario)]
    return Resource("phoneAudioInvitation", base, props, _links(*links), embedded)
