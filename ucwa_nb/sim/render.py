"""Turn simulator state into UCWA resources, with the links that are possible right now.

Every href comes from the route table (``paths.py``), and every conditional link from
``rules/offers.py``, which the operations also obey; see ucwa-protocol.md sections 1 and 8.
Each function takes the application the resource is rendered for: hrefs carry its id.
"""

from __future__ import annotations

from ucwa_nb.protocol.representation import Link, Resource
from ucwa_nb.sim import paths
from ucwa_nb.sim.rules import dialling, offers
from ucwa_nb.sim.rules.world import known_person_name
from ucwa_nb.sim.scenario import Scenario
from ucwa_nb.sim.state import (
    ApplicationState,
    ConversationLogState,
    ConversationState,
    InvitationState,
)

__all__ = [
    "application",
    "communication",
    "contact",
    "conversation",
    "conversation_log",
    "conversation_logs",
    "conversations",
    "invitation",
    "invitation_path",
    "local_participant",
    "log_recipient",
    "me",
    "messaging",
    "participant",
    "participant_uri",
    "participants",
    "phone",
    "phone_audio",
    "phones",
    "policies",
    "root",
    "user",
]


def _links(*pairs: tuple[str, str]) -> dict[str, list[Link]]:
    return {rel: [Link(rel, href)] for rel, href in pairs}


def _key(uri: str) -> str:
    """How a person is named in a path: the SIP URI without its scheme; a number (a
    participant reached by its ``tel:`` URI) keeps its scheme."""
    return uri.removeprefix("sip:")


def participant_uri(key: str) -> str:
    """The URI a participant's path names (``_key`` undone)."""
    return key if key.startswith("tel:") else "sip:" + key


def _in_app(name: str, app: ApplicationState) -> str:
    return paths.path(name, app=app.id)


def _in_conversation(name: str, app: ApplicationState, conv: ConversationState) -> str:
    return paths.path(name, app=app.id, conv=conv.id)


def _in_log(name: str, app: ApplicationState, log: ConversationLogState) -> str:
    return paths.path(name, app=app.id, log=log.id)


def _contact_links(app: ApplicationState, uri: str, scenario: Scenario,
                   rel: str = "contact") -> list[tuple[str, str]]:
    """The link to a person's contact resource, if the world knows the person (people/<uri>
    answers only for them: a link to anyone else would lead nowhere)."""
    if known_person_name(scenario, uri) is None:
        return []
    return [(rel, paths.path("contact", app=app.id, person=_key(uri)))]


# ---------------------------------------------------------------------- discovery


def root(base: str = "") -> Resource:
    """The root; ``base`` (a scheme and host) makes its hrefs absolute."""
    return Resource("root", base + paths.path("root"), {},
                    _links(("user", base + paths.path("user")),
                           ("xframe", base + paths.path("xframe"))))


def user(base: str = "") -> Resource:
    """The user resource; ``base`` (a scheme and host) makes its hrefs absolute."""
    return Resource("user", base + paths.path("user"), {},
                    _links(("applications", base + paths.path("applications")),
                           ("xframe", base + paths.path("xframe"))))


# ---------------------------------------------------------------------- the application


def application(app: ApplicationState) -> Resource:
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
        _in_app("application", app),
        props,
        _links(
            # No batch link: the simulator does not take multipart batches (batch_ref).
            ("policies", _in_app("policies", app)),
            ("events", _in_app("events", app) + "?ack=1"),
        ),
        {
            "me": [me(app)],
            "people": [Resource("people", _in_app("people", app), {}, {})],
            "onlineMeetings": [Resource("onlineMeetings", _in_app("onlineMeetings", app),
                                        {}, {})],
            "communication": [communication(app)],
        },
    )


def me(app: ApplicationState) -> Resource:
    spec = app.user.spec
    props = {"name": spec.name, "uri": spec.uri}
    if spec.phone:
        props["workPhoneNumber"] = spec.phone
    # No photo link: the simulated users have none (policies say photos are disabled).
    links = [(rel, _in_app(rel, app)) for rel in offers.me_operations(app)]
    links.append(("phones", _in_app("phones", app)))
    return Resource("me", _in_app("me", app), props, _links(*links))


def phones(app: ApplicationState) -> Resource:
    # phones_ref: read/write in general; here read-only (no changeNumber/changeVisibility).
    embedded = {"phone": [phone(app)]} if app.user.spec.phone else {}
    return Resource("phones", _in_app("phones", app), {}, {}, embedded)


def phone(app: ApplicationState) -> Resource:
    return Resource("phone", paths.path("phone", app=app.id, phone="work"),
                    {"number": app.user.spec.phone, "type": "Work",
                     "includeInContactCard": True}, {})


def policies(app: ApplicationState) -> Resource:
    # A few of policies_ref's properties, with the values this simulated pool has [infer].
    return Resource("policies", _in_app("policies", app), {
        "emoticons": "Disabled",
        "htmlMessaging": "Disabled",
        "messagingUrls": "Disabled",
        "photos": "Disabled",
        "callLogArchiving": "Disabled",
        "messageArchiving": "Disabled",
        "logging": "Disabled",
        "exchangeUnifiedMessaging": "Disabled",
    }, {})


def contact(app: ApplicationState, uri: str, name: str) -> Resource:
    return Resource("contact", paths.path("contact", app=app.id, person=_key(uri)),
                    {"name": name, "uri": uri}, {})


def communication(app: ApplicationState) -> Resource:
    """As CreateAnApplication's trace shows it: the GUID-named property to pass back in a PUT
    and the etag, ``supportedModalities`` empty until makeMeAvailable (or a PUT) sets it."""
    put = app.communication_put
    props: dict[str, object] = {
        # The walkthroughs' wording (CreateAnApplication, EventChannelDetails).
        app.communication_guid: "please pass this in a PUT request",
        "phoneNumber": put.get("phoneNumber") or app.phone_number or app.user.spec.phone,
        "audioPreference": put.get("audioPreference", "PhoneAudio"),
        "conversationHistory": put.get("conversationHistory", "Enabled"),
        "supportedModalities": offers.supported_modalities(app),
        "supportedMessageFormats": list(put.get("supportedMessageFormats", ["Plain"])),
        "etag": str(app.communication_etag),
    }
    return Resource(
        "communication",
        _in_app("communication", app),
        props,
        _links(
            ("conversations", _in_app("conversations", app) + "?filter=active"),
            ("conversationLogs", _in_app("conversationLogs", app)),
            *[(rel, _in_app(rel, app))
              for rel in offers.allowed(app, offers.communication_operations(app))],
        ),
    )


# ---------------------------------------------------------------------- conversations


def conversations(app: ApplicationState) -> Resource:
    links: dict[str, list[Link]] = {
        "conversation": [
            Link("conversation", _in_conversation("conversation", app, c))
            for c in app.conversations.values()
            if offers.is_active(c)
        ]
    }
    if not links["conversation"]:
        links = {}
    return Resource("conversations", _in_app("conversations", app) + "?filter=active", {},
                    links)


def conversation(app: ApplicationState, conv: ConversationState) -> Resource:
    return Resource(
        "conversation",
        _in_conversation("conversation", app, conv),
        {
            "state": conv.state,
            "subject": conv.subject,
            "threadId": conv.thread_id,
            "importance": conv.importance,
            "activeModalities": offers.active_modalities(conv),
            "participantCount": len(conv.participants) + 1,
            "created": conv.created,
            "readLocally": True,
            "recording": False,
        },
        _links(
            ("phoneAudio", _in_conversation("phoneAudio", app, conv)),
            ("participants", _in_conversation("participants", app, conv)),
            ("localParticipant", _local_participant_path(app, conv)),
            ("messaging", _in_conversation("messaging", app, conv)),
        ),
    )


def participant(app: ApplicationState, conv: ConversationState, uri: str,
                scenario: Scenario) -> Resource:
    # participant_ref: a link's title is "The display name or normalized phone number of
    # the participant"; the name of a number nobody named is the number.
    name = dialling.name_of(scenario, uri) or (
        uri.removeprefix("tel:") if uri.startswith("tel:") else uri.split(":")[-1])
    props: dict[str, object] = {"name": name, "uri": uri, "local": False,
                                "anonymous": False}
    if not uri.startswith("tel:"):
        props["sourceNetwork"] = "SameEnterprise"  # [infer] a number has no source network
    work = dialling.work_phone_of(scenario, uri)
    if work is not None:
        props["workPhoneNumber"] = work  # participant_ref: "The participant's Phone URI"
    return Resource(
        "participant",
        paths.path("participant", app=app.id, conv=conv.id, participant=_key(uri)),
        props,
        _links(*_contact_links(app, uri, scenario),
               ("conversation", _in_conversation("conversation", app, conv))),
    )


def _local_participant_path(app: ApplicationState, conv: ConversationState) -> str:
    # [infer] keyed like the remote participants, by the user's own SIP URI.
    return paths.path("participant", app=app.id, conv=conv.id, participant=app.user.key)


def local_participant(app: ApplicationState, conv: ConversationState,
                      rel: str = "participant") -> Resource:
    """The user in a conversation (localParticipant_ref; also an invitation's ``from``,
    from_ref). Embedded (an invitation's ``from``, the localParticipant added event) its rel
    is participant, as in the samples and the SendAnIM trace; GET on it answers rel
    localParticipant, as localParticipant_ref's GET sample (``rel="localParticipant"``)."""
    spec = app.user.spec
    props: dict[str, object] = {"name": spec.name, "uri": spec.uri, "local": True,
                                "anonymous": False, "sourceNetwork": "SameEnterprise"}
    if spec.phone:
        props["workPhoneNumber"] = spec.phone
    return Resource(rel, _local_participant_path(app, conv), props, _links(
        ("contact", paths.path("contact", app=app.id, person=app.user.key)),
        ("conversation", _in_conversation("conversation", app, conv)),
        ("me", _in_app("me", app)),
    ))


def participants(app: ApplicationState, conv: ConversationState,
                 scenario: Scenario) -> Resource:
    people = [participant(app, conv, uri, scenario) for uri in conv.participants]
    links = {"participant": [Link("participant", p.href or "") for p in people]}
    return Resource("participants", _in_conversation("participants", app, conv), {},
                    links if people else {}, {"participant": people} if people else {})


def phone_audio(app: ApplicationState, conv: ConversationState) -> Resource:
    links = [("conversation", _in_conversation("conversation", app, conv))]
    links += [(rel, _in_conversation(rel, app, conv))
              for rel in offers.allowed(app, offers.phone_audio_operations(conv))]
    return Resource("phoneAudio", _in_conversation("phoneAudio", app, conv),
                    {"state": conv.phone_audio_state}, _links(*links))


def messaging(app: ApplicationState, conv: ConversationState) -> Resource:
    # [infer] The messaging modality's state follows the conversation's modalities; it offers
    # no capability (addMessaging, sendMessage, ...): the simulator carries no messages.
    connected = "Messaging" in conv.modalities and offers.is_active(conv)
    conversation_href = _in_conversation("conversation", app, conv)
    return Resource("messaging", _in_conversation("messaging", app, conv),
                    {"state": "Connected" if connected else "Disconnected"},
                    {"conversation": [Link("conversation", conversation_href)]})


# ---------------------------------------------------------------------- conversation logs


def conversation_logs(app: ApplicationState, limit: int | None = None) -> Resource:
    logs = sorted(app.user.logs.values(), key=lambda log: log.spec.created, reverse=True)
    if limit is not None:
        logs = logs[:limit]
    links = {"conversationLog": [Link("conversationLog", _in_log("conversationLog", app, log))
                                 for log in logs]}
    return Resource("conversationLogs", _in_app("conversationLogs", app), {},
                    links if logs else {})


def conversation_log(app: ApplicationState, log: ConversationLogState,
                     scenario: Scenario) -> Resource:
    spec = log.spec
    recipients = [log_recipient(app, log, uri, scenario) for uri in spec.recipients]
    # No continueMessaging nor conversationLogTranscripts: the simulator has no messaging
    # and keeps no transcripts, so they would lead nowhere.
    links = [(rel, _in_log(rel, app, log))
             for rel in offers.allowed(app, offers.conversation_log_operations(log))]
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
    return Resource("conversationLog", _in_log("conversationLog", app, log), properties,
                    _links(*links), {"conversationLogRecipient": recipients})


def log_recipient(app: ApplicationState, log: ConversationLogState, uri: str,
                  scenario: Scenario) -> Resource:
    contact_spec = scenario.contact(uri)
    key = _key(uri)
    return Resource(
        "conversationLogRecipient",
        paths.path("conversationLogRecipient", app=app.id, log=log.id, recipient=key),
        {"displayName": contact_spec.name if contact_spec else key, "sipUri": uri},
        _links(*_contact_links(app, uri, scenario)),
    )


# ---------------------------------------------------------------------- invitations


def invitation_path(inv: InvitationState, name: str = "phoneAudioInvitation") -> str:
    """The invitation's href (``Location`` of the 201 that started it), or one of its
    operations'."""
    return paths.path(name, app=inv.app.id, inv=inv.id)


def invitation(inv: InvitationState, scenario: Scenario) -> Resource:
    app = inv.app
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
    links = [(rel, invitation_path(inv, rel)) for rel in offers.invitation_operations(inv)]
    # A conversation that ended or was left no longer exists: no link leads to it.
    if offers.exists(app, conv):
        links += [("conversation", _in_conversation("conversation", app, conv)),
                  ("phoneAudio", _in_conversation("phoneAudio", app, conv))]
    if offers.exists(app, inv.derived):
        links += [("derivedConversation", invitation_path(inv, "derivedConversation")),
                  ("derivedPhoneAudio", invitation_path(inv, "derivedPhoneAudio"))]
    links += _contact_links(app, inv.to, scenario, "to")
    embedded: dict[str, list[Resource]] = {}
    if offers.exists(app, conv):
        links.append(("from", _local_participant_path(app, conv)))
        embedded["from"] = [local_participant(app, conv)]
    answered_in = inv.derived or conv
    if inv.accepted_by is not None and offers.exists(app, answered_in):
        embedded["acceptedByParticipant"] = [
            participant(app, answered_in, inv.accepted_by, scenario)]
    return Resource("phoneAudioInvitation", invitation_path(inv), props, _links(*links),
                    embedded)
