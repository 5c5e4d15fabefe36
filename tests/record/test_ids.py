"""Server-minted ids found from Locations and links, rewritten to the simulator's."""

from __future__ import annotations

from support.recording import Recorded

from ucwa_nb.record.ids import APP_MARK, IdMap, path_template
from ucwa_nb.record.recording import Recording


def test_path_templates_name_what_each_id_names() -> None:
    assert path_template("https://fe.contoso.com/ucwa/oauth/v1/applications/103/communication/"
                         "conversations/abc/participants/john@contoso.com?x=1") == \
        "/applications/{app}/communication/conversations/{conv}/participants/{person}"
    assert path_template("/ucwa/v1/applications/9/events?ack=3") == "/applications/{app}/events"
    assert path_template("/ucwa/oauth/v1/applications/9/communication/phoneAudioInvitations/"
                         "f00") == "/applications/{app}/communication/phoneAudioInvitations/{inv}"


def test_ids_map_in_the_simulators_order(recorded: Recorded) -> None:
    ids = IdMap(Recording(recorded("json")))
    assert ids.ids["conv"]["1"] == "1"
    assert ids.ids["log"] == {"1": "1", "2": "2", "3": "3"}
    assert ids.ids["inv"]["1"] == "1"
    # continuePhoneAudio made three conversations after the scenario's three.
    assert len(ids.ids["conv"]) == 6


def test_rewrite_drops_the_server_and_marks_the_application(recorded: Recorded) -> None:
    recording = Recording(recorded("json"))
    ids = IdMap(recording)
    href = f"http://{recording.server}/ucwa/oauth/v1/applications/101/communication/" \
           "conversations/2/phoneAudio"
    assert ids.rewrite(href, recording.server) == \
        APP_MARK + "/communication/conversations/2/phoneAudio"
