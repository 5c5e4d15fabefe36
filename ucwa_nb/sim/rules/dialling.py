"""Who a call reaches: the callee of a ``to`` (a person's SIP URI or a number, already read
with the user's dial plan by ``protocol.rules.callee_uri``), the phone that rings, who answers
it, and where the contact's forwarding sends a call nobody answers.

CoreCapabilities.md, "Phone audio": "The other contacts are identified by a URI including
phone number, and standard forwarding rules can be followed to reach them."
phoneAudioInvitation_ref: "the invitation could be forwarded or sent to all members of the
invitee's team", and "the participant ([acceptedByParticipant]) who accepts the call can be
different from the original target ([to])".

The world is the scenario's, and closed: a number or URI it does not know reaches nobody
(``reach`` answers None; the call completes NotFound/DestinationNotFound, "The targeted user
doesn't exist", ErrorSubcode_ref, the subcode of NotFound for a phoneAudioInvitation in the
old generation's asynchronous reason codes, ucwa-protocol.md 2.6). [infer] A number is not
told apart from a person here: a real PSTN gateway's "number not in service" reaches UCWA
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from ucwa_nb.sim.scenario import ContactSpec, ForwardSpec, PhoneSpec, Scenario, UserSpec

__all__ = ["VOICEMAIL", "Reached", "forwarded", "name_of", "reach", "work_phone_of"]

# [infer] How Exchange Unified Messaging appears as a participant: the contact's own URI with
# the voicemail application's opaque parameter (the form Lync gives its voicemail).
VOICEMAIL = ";opaque=app:voicemail"
# Another user of the scenario picks up after this long (as calls.py always had it).
_USER_ANSWERS = PhoneSpec("answers", 0.5)
# [infer] Voicemail answers as soon as the call reaches it.
_VOICEMAIL_ANSWERS = PhoneSpec("answers", 0.2)


@dataclass(frozen=True)
class Reached:
    """Where a call rings: the phone's behaviour, who answers it (the URI of the participant
    that joins: a person's SIP URI, or the ``tel:`` URI of a number), and the forwarding of
    the contact it belongs to, if any."""

    phone: PhoneSpec
    answerer: str
    contact: ContactSpec | None = None
    forward: ForwardSpec | None = None


def reach(scenario: Scenario, uri: str) -> Reached | None:
    """Who ``uri`` reaches, or None (nobody: DestinationNotFound).

    A contact's SIP URI or work number rings the contact, whose forwarding applies ([infer]
    a work number reaches its owner, as a Skype for Business server's reverse number lookup
    does for enterprise numbers); their mobile number rings the mobile; a user of the
    scenario answers; a ``[[phones]]`` number behaves as listed."""
    contact = scenario.contact(uri) or _contact_with(scenario, uri, "phone")
    if contact is not None:
        return Reached(PhoneSpec(contact.behaviour, contact.after), contact.uri, contact,
                       contact.forward)
    mobile_of = _contact_with(scenario, uri, "mobile")
    if mobile_of is not None:
        return Reached(mobile_of.mobile_phone, uri, mobile_of)
    user = scenario.user(uri) if uri.startswith("sip:") else _user_with_phone(scenario, uri)
    if user is not None:
        return Reached(_USER_ANSWERS, user.uri)
    phone = scenario.phones.get(uri.removeprefix("tel:")) if uri.startswith("tel:") else None
    return Reached(phone, uri) if phone is not None else None


def forwarded(reached: Reached) -> Reached:
    """Where ``reached``'s forwarding sends the call: the contact's mobile, or their
    voicemail, which answers."""
    contact, forward = reached.contact, reached.forward
    assert contact is not None
    assert forward is not None
    if forward.to == "mobile" and contact.mobile is not None:
        return Reached(contact.mobile_phone, contact.mobile, contact)
    return Reached(_VOICEMAIL_ANSWERS, contact.uri + VOICEMAIL, contact)


def name_of(scenario: Scenario, uri: str) -> str | None:
    """The display name of whoever is at ``uri`` (a person, their voicemail, a known
    number); None when the world does not know it."""
    person = uri.removesuffix(VOICEMAIL)
    contact = (scenario.contact(person) or _contact_with(scenario, person, "phone")
               or _contact_with(scenario, person, "mobile"))
    name = contact.name if contact is not None else None
    if name is None:
        user = scenario.user(person) if person.startswith("sip:") \
            else _user_with_phone(scenario, person)
        name = user.name if user is not None else None
    if name is None and person.startswith("tel:"):
        phone = scenario.phones.get(person.removeprefix("tel:"))
        name = phone.name or None if phone is not None else None
    if name is not None and person != uri:
        return f"{name} (voicemail)"
    return name


def work_phone_of(scenario: Scenario, uri: str) -> str | None:
    """A contact's work number (participant_ref's ``workPhoneNumber``), if the scenario
    gives one."""
    contact = scenario.contact(uri)
    return contact.phone if contact is not None else None


def _contact_with(scenario: Scenario, number: str, which: str) -> ContactSpec | None:
    if not number.startswith("tel:"):
        return None
    return next((c for c in scenario.contacts if getattr(c, which) == number), None)


def _user_with_phone(scenario: Scenario, number: str) -> UserSpec | None:
    return next((u for u in scenario.users if u.phone and u.phone == number), None)
