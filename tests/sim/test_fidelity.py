"""Smaller points of the reference pages, each test quoting the line it checks."""

from __future__ import annotations

import httpx
import pytest
from support import Lab
from support.ucwa_http import Format, Session, new_client, reason_of, with_params

from ucwa_nb import Simulator
from ucwa_nb.protocol import build_input

JOHN = "sip:john@contoso.com"
FORMATS: list[Format] = ["json", "xml"]


def test_every_response_carries_the_ucwa_version(lab: Lab, sim: Simulator) -> None:
    # Versioning: "All UCWA responses include the header named 'X-MS-UcwaVersion'"
    session = lab.sign_in(sim, collect=False)
    responses = [
        session.get(session.app_href),                          # a resource
        session.get(session.app_href + "/nowhere"),             # 404
        session.client.put(session.app_href),                   # 405
        session.post(session.href(session.phone_audio("Project sync"), "addPhoneAudio"), {}),
        session.get(with_params(session.events_href, timeout=0.2)),  # the event channel
    ]
    with new_client(session.base_url) as anonymous:
        responses.append(anonymous.get(session.app_href))      # the 401 challenge
    for response in responses:
        assert response.headers["X-MS-UcwaVersion"] == "1.7", response


@pytest.mark.parametrize("fmt", FORMATS)
def test_local_participant_answers_its_own_rel(lab: Lab, sim: Simulator, fmt: Format) -> None:
    # localParticipant_ref, GET sample: "rel" : "localParticipant"
    session = lab.sign_in(sim, fmt=fmt, collect=False)
    local = session.follow(session.conversation("Project sync"), "localParticipant")
    assert local.rel == "localParticipant"
    assert local.get("local") is True


def test_delete_conversation_log(lab: Lab, sim: Simulator) -> None:
    # conversationLog_ref, DELETE: "Removes the past conversation instance." ...
    # "HTTP/1.1 204 No Content"
    session = lab.sign_in(sim, collect=False)
    log = session.conversation_log("Supplier call")
    assert log.href is not None
    response = session.client.delete(log.href)
    assert response.status_code == 204
    assert response.content == b""
    assert session.get(log.href).status_code == 404
    assert "Supplier call" not in {entry.get("subject") for entry in session.conversation_logs()}


def _start(session: Session, operation_id: str) -> str:
    href = session.href(session.communication(), "startPhoneAudio")
    response = session.post(href, {"operationId": operation_id, "to": JOHN})
    assert response.status_code == 201, response.text
    return response.headers["location"]


def test_a_phone_only_conversation_tells_the_truth(lab: Lab, sim: Simulator) -> None:
    # SendAnIM: a new conversation "state":"Connecting", ... "activeModalities": [];
    # ConversationModalityType has no PhoneAudio member; conversation_ref: "created |
    # Creation time stamp in UTC."
    session = lab.sign_in(sim)
    assert session.collector is not None
    _start(session, "phone-only")
    session.collector.wait_completed("phone-only")
    added = next(e for _, e in session.collector.snapshot()
                 if e.type == "added" and e.link.rel == "conversation")
    assert added.resource is not None
    assert added.resource.get("activeModalities") == []
    assert added.resource.get("state") == "Connecting"
    conversation = session.resource(added.link.href)
    assert conversation.get("activeModalities") == []
    log = session.conversation_log("Weekly one-to-one")
    response = session.post(session.href(log, "continuePhoneAudio"), {"operationId": "log"})
    assert response.status_code == 201
    session.collector.wait_completed("log")
    made = [e for _, e in session.collector.snapshot()
            if e.type == "added" and e.link.rel == "conversation"][-1]
    assert made.resource is not None
    # created is when the conversation was made, not the log's date.
    assert made.resource.get("created") > log.get("creationTime")


def test_xml_resources_repeat_their_rel_and_write_dates_as_the_samples(
        lab: Lab, sim: Simulator) -> None:
    # conversation_ref XML sample: <resource rel="conversation" href="..."> <link .../> ...
    # <property name="rel">conversation</property> ... <property name="created">2016-09-26T
    # 16:20:24.8356669-07:00</property>
    session = lab.sign_in(sim, fmt="xml", collect=False)
    href = session.conversation("Project sync").href
    assert href is not None
    body = session.get(href).text
    assert '<property name="rel">conversation</property>' in body
    assert body.index('<property name="rel">') > body.rindex("<link ")
    assert '<property name="created">2026-11-02T09:00:00.0000000+00:00</property>' in body


def test_a_fresh_communication_looks_like_create_an_application(lab: Lab,
                                                                 sim: Simulator) -> None:
    # CreateAnApplication's 201: "communication":{"4d221db7-...":"please pass this in a PUT
    # request","supportedModalities":[],"supportedMessageFormats":["Plain"], ...,
    # "etag":"3140562359"}
    session = lab.sign_in(sim)
    communication = session.application.embedded_one("communication")
    assert communication is not None
    assert communication.get("supportedModalities") == []
    assert communication.get("supportedMessageFormats") == ["Plain"]
    assert "please pass this in a PUT request" in communication.properties.values()
    assert communication.get("etag")
    # makeMeAvailable_ref: "a user can initiate communications, such as ... starting a phone
    # call, without invoking this capability."
    _start(session, "before-available")
    # me_ref: me updated, Medium, "The application is no longer in lurker mode"
    me = session.application.embedded_one("me")
    assert me is not None
    assert me.href is not None
    response = session.post(session.href(session.resource(me.href), "makeMeAvailable"),
                            {"supportedModalities": ["PhoneAudio"]})
    assert response.status_code == 204
    assert session.collector is not None
    session.collector.wait_for(lambda got: any(
        s.rel == "me" and e.type == "updated" for s, e in got))
    assert session.communication().get("supportedModalities") == ["PhoneAudio"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_put_communication_is_conditional(lab: Lab, sim: Simulator, fmt: Format) -> None:
    # communication_ref: PUT "Modifies the dashboard for communication capabilities",
    # "HTTP/1.1 200 OK". PayloadFormat: without If-Match "rejected with HTTP code 428 /
    # Precondition Required"; a stale ETag "412 / Precondition Failed"; without the
    # GUID-named property "rejected with a validation error".
    session = lab.sign_in(sim, fmt=fmt, collect=False)
    href = session.communication().href
    assert href is not None
    got = session.get(href)
    tag = got.headers["ETag"]
    communication = session.resource(href)
    guid = next(k for k, v in communication.properties.items()
                if v == "please pass this in a PUT request")
    body = {guid: "please pass this in a PUT request", "audioPreference": "VoipAudio"}

    def put(props: dict[str, str], **headers: str) -> httpx.Response:
        return session.client.put(href, content=build_input(props, fmt), headers={
            "Content-Type": f"application/{fmt}", **headers})

    assert put(body).status_code == 428
    assert put(body, **{"If-Match": '"stale"'}).status_code == 412
    refused = put({"audioPreference": "VoipAudio"}, **{"If-Match": tag})
    assert refused.status_code == 400
    assert reason_of(refused).subcode == "ParameterValidationFailure"
    done = put(body, **{"If-Match": tag})
    assert done.status_code == 200
    assert done.headers["ETag"] != tag
    assert session.resource(href).get("audioPreference") == "VoipAudio"
    assert put(body, **{"If-Match": tag}).status_code == 412  # the old tag is stale now
