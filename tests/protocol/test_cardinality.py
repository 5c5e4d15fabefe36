"""JSON cardinality comes from the table of multi-valued relations, never from the count.

PayloadFormat: "It will be an array even if it currently contains only one such link, but it
can potentially have more links. This way the client application can expect a certain "rel"
to always be a single link or always an array, without having to handle both cases."
"""

from __future__ import annotations

import json

import pytest

from ucwa_nb.protocol.cardinality import MULTI_VALUED, is_many
from ucwa_nb.protocol.representation import (
    Event,
    Events,
    Link,
    Resource,
    Sender,
    build_events,
    build_resource,
    parse,
)

JSON = "application/json"
XML = "application/xml"


def _links(**hrefs: str) -> dict[str, list[Link]]:
    return {rel: [Link(rel, href)] for rel, href in hrefs.items()}


def _log_with_one_recipient() -> Resource:
    recipient = Resource("conversationLogRecipient", "/logs/1/recipients/john",
                         {"sipUri": "sip:john@contoso.com"}, {})
    return Resource("conversationLog", "/logs/1", {"subject": "s"},
                    _links(continuePhoneAudio="/logs/1/continuePhoneAudio"),
                    {"conversationLogRecipient": [recipient]})


def test_every_entry_names_its_page_and_sample() -> None:
    for relation in MULTI_VALUED:
        assert relation.page
        assert relation.sample
        assert relation.rel in relation.sample  # the sample shows the relation it rules


def test_a_log_with_one_recipient_embeds_an_array() -> None:
    # conversationLog_ref: "conversationLogRecipient" : [ { "rel" : "conversationLogRecipient", ...
    # and, same sample, "continuePhoneAudio" : { "href" : ... } (single-valued: an object).
    data = json.loads(build_resource(_log_with_one_recipient(), "json"))
    assert isinstance(data["_embedded"]["conversationLogRecipient"], list)
    assert len(data["_embedded"]["conversationLogRecipient"]) == 1
    assert isinstance(data["_links"]["continuePhoneAudio"], dict)
    assert isinstance(data["_links"]["self"], dict)


@pytest.mark.parametrize(("owner", "rel"), [
    # conversations_ref: "conversation" : [ { "href" : ".../conversations/343" } ]
    ("conversations", "conversation"),
    # conversationLogs_ref: "conversationLog" : [ { "href" : ...
    ("conversationLogs", "conversationLog"),
    # attendees_ref (participants_ref has no sample): "participant" : [ { "href" : ... } ]
    ("participants", "participant"),
])
def test_collections_with_one_link_write_an_array(owner: str, rel: str) -> None:
    collection = Resource(owner, f"/{owner}", {}, {rel: [Link(rel, f"/{owner}/1")]})
    data = json.loads(build_resource(collection, "json"))
    assert data["_links"][rel] == [{"href": f"/{owner}/1"}]


def test_an_invitation_embeds_accepted_by_participant_as_an_array_and_from_as_an_object() -> None:
    # phoneAudioInvitation_ref: "acceptedByParticipant" : [ { "rel" : "participant", ...} ]
    # and "from" : { "rel" : "participant", ...}
    participant = Resource("participant", "/conv/1/participants/john", {"uri": "sip:john"}, {})
    me = Resource("participant", "/conv/1/participants/alice", {"uri": "sip:alice"}, {})
    invitation = Resource("phoneAudioInvitation", "/inv/1", {"state": "Connected"},
                          _links(conversation="/conv/1"),
                          {"acceptedByParticipant": [participant], "from": [me]})
    data = json.loads(build_resource(invitation, "json"))
    assert isinstance(data["_embedded"]["acceptedByParticipant"], list)
    assert data["_embedded"]["acceptedByParticipant"][0]["rel"] == "participant"
    assert isinstance(data["_embedded"]["from"], dict)
    assert isinstance(data["_links"]["conversation"], dict)


def test_phones_with_one_phone_embed_an_array() -> None:
    # phones_ref: "_embedded" : { "phone" : [ { "rel" : "phone", ...
    phone = Resource("phone", "/phones/work", {"number": "tel:+1"}, {})
    data = json.loads(build_resource(Resource("phones", "/phones", {}, {}, {"phone": [phone]}),
                                     "json"))
    assert isinstance(data["_embedded"]["phone"], list)


def test_single_valued_relations_stay_objects() -> None:
    # application_ref / CreateAnApplication: "_embedded" : { "me" : { ... }, "communication" : {
    assert not is_many("application", "_embedded", "communication")
    assert not is_many("application", "_links", "events")
    assert not is_many("conversation", "_links", "participants")
    # The same rel is many in one resource type and not in another.
    assert is_many("participants", "_links", "participant")
    assert not is_many("phoneAudioInvitation", "_links", "participant")


@pytest.mark.parametrize("many", [True, False])
def test_the_parser_accepts_both_shapes(many: bool) -> None:
    item = {"rel": "conversationLogRecipient", "sipUri": "sip:john@contoso.com",
            "_links": {"self": {"href": "/r/1"}}}
    link = {"href": "/logs/1/continuePhoneAudio"}
    body = {"rel": "conversationLog", "_links": {"self": {"href": "/logs/1"},
                                                  "continuePhoneAudio": [link] if many else link},
            "_embedded": {"conversationLogRecipient": [item] if many else item}}
    parsed = parse(json.dumps(body), JSON)
    assert isinstance(parsed, Resource)
    assert [r.get("sipUri") for r in parsed.embedded["conversationLogRecipient"]] == [
        "sip:john@contoso.com"]
    assert parsed.link("continuePhoneAudio") == Link("continuePhoneAudio",
                                                     "/logs/1/continuePhoneAudio")


def test_xml_repeats_elements_and_round_trips_one_item() -> None:
    # PayloadFormat: "In case of multiple links with the same "rel" value, the <link> element
    # is repeated multiple times. Unlike in JSON, there is no way to distinguish a single link
    # from a one-element collection of links."
    body = build_resource(_log_with_one_recipient(), "xml")
    assert body.count(b'<resource rel="conversationLogRecipient"') == 1
    parsed = parse(body, XML)
    assert isinstance(parsed, Resource)
    assert len(parsed.embedded["conversationLogRecipient"]) == 1


def test_event_batches_keep_sender_and_events_arrays() -> None:
    # EventsInUCWA: "sender array - each sender in the array contains an array of events"
    batch = Events(_links(next="/events?ack=2"), [Sender("communication", "/c", [
        Event("updated", Link("communication", "/c"))])])
    data = json.loads(build_events(batch, "json"))
    assert isinstance(data["sender"], list)
    assert isinstance(data["sender"][0]["events"], list)
    assert isinstance(data["_links"]["next"], dict)
