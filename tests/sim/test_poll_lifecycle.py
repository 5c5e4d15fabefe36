"""Event polls at the edges of their life: a client that hangs up while its poll is parked, and
polls that arrive while the simulator is shutting down.

A parked poll whose client is gone must be let go: otherwise the application looks polled
forever (it never expires, its channel never stops being live). A poll arriving while the
server shuts down must be answered at once (503), or uvicorn waits for it until its graceful
timeout and ``stop()`` is slow.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from support import Lab
from support.ucwa_http import is_parked, new_client, reason_of, wait_parked, with_params

from ucwa_nb import Simulator


def _wait(condition: object, timeout: float, what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_a_poll_whose_client_hung_up_is_let_go(lab: Lab) -> None:
    sim = lab.start(application_expiry=1.0, callback_grace=0.3)
    session = lab.sign_in(sim, collect=False)
    add = session.href(session.phone_audio("Project sync"), "addPhoneAudio")
    poller = new_client(sim.base_url, "json", session.token, httpx.Timeout(0.5, connect=5.0))
    with poller, pytest.raises(httpx.ReadTimeout):
        # The server would hold this poll for 60 s; the client gives up after 0.5 s.
        poller.get(with_params(session.events_href, timeout=60))
    _wait(lambda: not is_parked(sim, session), 2.0, "the abandoned poll stayed parked")
    # Nobody polls any more: after the grace the channel is dead, then the application expires.
    # Expiries are measured on the world's clock: moved on, not slept through.
    sim.call(lambda: sim.world.clock.advance(0.4))
    response = session.post(add, {"to": "sip:john@contoso.com"})
    assert response.status_code == 500, response.text
    assert reason_of(response).subcode == "CallbackChannelError"
    # Any request keeps an application alive (application_ref), so wait without asking.
    sim.call(lambda: sim.world.clock.advance(1.0 + 0.6))
    assert session.get(session.app_href).status_code == 410, \
        "the application of a client that hung up never expired"


def test_a_hang_up_does_not_lose_events(lab: Lab, sim: Simulator) -> None:
    """Events emitted after the hang-up wait for the next poll on the same ack."""
    session = lab.sign_in(sim, collect=False)
    poller = new_client(sim.base_url, "json", session.token, httpx.Timeout(0.3, connect=5.0))
    with poller, pytest.raises(httpx.ReadTimeout):
        poller.get(with_params(session.events_href, timeout=60))
    _wait(lambda: not is_parked(sim, session), 2.0, "the abandoned poll stayed parked")
    # The channel is not broken: a call made meanwhile reaches the next poll on the same ack.
    response = session.add_phone_audio("Project sync", {"operationId": "after", "to":
                                                        "sip:john@contoso.com"})
    assert response.status_code == 201  # the channel is still live within the grace
    answer = session.get(with_params(session.events_href, timeout=5))
    assert answer.status_code == 200
    assert b'"operationId":"after"' in answer.content.replace(b" ", b"")


def test_polls_are_refused_while_the_server_shuts_down(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim, collect=False)
    # What stop() and restart() do first: answer parked polls, refuse new ones.
    sim.call(sim.world.shutdown)
    start = time.monotonic()
    response = session.get(with_params(session.events_href, timeout=30))
    assert time.monotonic() - start < 2
    assert response.status_code == 503
    assert reason_of(response).code == "ServiceUnavailable"
    assert not is_parked(sim, session)
    # Serving again (a restart) takes polls again.
    sim.restart()
    wait = session.get(with_params(session.events_href, timeout=0.2))
    assert wait.status_code == 200, wait.text


def test_stop_is_quick_with_a_client_that_polls_again_at_once(lab: Lab, sim: Simulator) -> None:
    """A client answered 503 by the shutdown polls again on its kept-alive connection at once;
    that poll must not park and hold uvicorn's shutdown up to its graceful timeout."""
    session = lab.sign_in(sim, collect=False)
    stopped = threading.Event()
    answers: list[int] = []

    def poll_forever() -> None:
        with new_client(sim.base_url, "json", session.token) as client:
            while not stopped.is_set():
                try:
                    answers.append(client.get(with_params(session.events_href,
                                                          timeout=30)).status_code)
                except httpx.HTTPError:
                    return

    poller = threading.Thread(target=poll_forever, daemon=True)
    poller.start()
    wait_parked(sim, session)
    start = time.monotonic()
    sim.stop()
    took = time.monotonic() - start
    stopped.set()
    poller.join(5)
    assert not poller.is_alive()
    assert 503 in answers
    # uvicorn's graceful timeout is 1 s: waiting for a parked poll would take that long.
    assert took < 0.9, f"stop() took {took:.2f} s"
