"""On the wire, a multi-valued relation is an array even with one item (PayloadFormat):
"It will be an array even if it currently contains only one such link". Checked in the raw
JSON the simulator sends; XML, which has no such distinction, is read back with the parser."""

from __future__ import annotations

from typing import Any

from support import Lab
from support.ucwa_http import Session, with_params

from ucwa_nb import Simulator


def _raw(session: Session, href: str) -> dict[str, Any]:
    response = session.get(href)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_collections_with_one_item_are_arrays(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim, collect=False)
    communication = session.communication()
    logs_href = session.href(communication, "conversationLogs")
    # conversationLogs_ref: "conversationLog" : [ { "href" : ...
    logs = _raw(session, with_params(logs_href, limit=1))
    assert isinstance(logs["_links"]["conversationLog"], list)
    assert len(logs["_links"]["conversationLog"]) == 1
    # conversationLog_ref: "conversationLogRecipient" : [ { "rel" : "conversationLogRecipient",
    log = _raw(session, logs["_links"]["conversationLog"][0]["href"])
    recipients = log["_embedded"]["conversationLogRecipient"]
    assert isinstance(recipients, list)
    assert len(recipients) == 1
    assert isinstance(log["_links"]["continuePhoneAudio"], dict)  # same sample: an object
    # attendees_ref (the participants' sibling): "participant" : [ { "href" : ... } ]
    conversation = session.conversation("Project sync")
    participants = _raw(session, session.href(conversation, "participants"))
    assert isinstance(participants["_links"]["participant"], list)
    assert isinstance(participants["_embedded"]["participant"], list)
    assert len(participants["_links"]["participant"]) == 1
    # phones_ref: "_embedded" : { "phone" : [ { "rel" : "phone", ...
    me = session.application.embedded_one("me")
    assert me is not None
    assert me.href is not None
    phones = _raw(session, session.href(session.resource(me.href), "phones"))
    assert isinstance(phones["_embedded"]["phone"], list)
    # application_ref: "_embedded" : { "me" : { ... } ...: single-valued, objects
    application = _raw(session, session.app_href)
    assert isinstance(application["_embedded"]["communication"], dict)
    assert isinstance(application["_links"]["events"], dict)


def test_accepted_by_participant_is_an_array(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    assert session.collector is not None
    response = session.add_phone_audio("Project sync", {"operationId": "card",
                                                         "to": "sip:john@contoso.com"})
    assert response.status_code == 201, response.text
    assert session.collector.wait_completed("card").status == "Success"
    invitation = _raw(session, response.headers["location"])
    # phoneAudioInvitation_ref: "acceptedByParticipant" : [ { "rel" : "participant", ...} ]
    accepted = invitation["_embedded"]["acceptedByParticipant"]
    assert isinstance(accepted, list)
    assert len(accepted) == 1
    assert accepted[0]["rel"] == "participant"
    # ... and "from" : { "rel" : "participant", ...}: an object
    assert isinstance(invitation["_embedded"]["from"], dict)


def test_xml_gives_the_same_items(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim, fmt="xml", collect=False)
    log = session.conversation_log("Weekly one-to-one")
    assert [r.get("sipUri") for r in log.embedded["conversationLogRecipient"]] == [
        "sip:john@contoso.com"]
