"""The simulator's structure: routes placed and named by the one route table, no import of the
client's layers, and every conditional link shown exactly when its operation is accepted."""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route

import ucwa_nb.sim
from ucwa_nb.sim import paths, render
from ucwa_nb.sim.app import create_app
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.rules import calls, me, phone_audio
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenarios import default as default_scenario
from ucwa_nb.sim.state import ApplicationState, ConversationState, Target, TokenState

FORBIDDEN_LAYERS = ("ucwa_nb.client", "ucwa_nb.log", "ucwa_nb.widgets", "ucwa_nb.display")


def _run_apart(check: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """``asyncio.run(check())`` on a thread of its own: Playwright's sync API (the browser
    tests, earlier in the same run) leaves an event loop running on the main thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(check())).result(timeout=60)


def test_every_route_is_named_and_placed_by_the_route_table() -> None:
    routes = create_app(World(default_scenario())).routes
    assert all(isinstance(route, Route) for route in routes)
    placed = {route.name: route.path for route in routes if isinstance(route, Route)}
    assert placed == paths.TEMPLATES


def test_paths_fill_in_their_parameters() -> None:
    assert paths.path("phoneAudio", app="101", conv="2") == \
        "/ucwa/oauth/v1/applications/101/communication/conversations/2/phoneAudio"
    assert paths.path("root") == paths.ROOT


def test_the_simulator_imports_nothing_of_the_client_side() -> None:
    """ucwa_nb.sim may use ucwa_nb.protocol, never the client, log, display or widgets: not
    even lazily (the ``ucwa-nb`` dispatcher above every layer, ``ucwa_nb/cli.py``, hands the
    other commands to their layers)."""
    package = Path(ucwa_nb.sim.__file__).parent
    found = []
    for source in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{source.name}: {name}" for name in names
                      if name.startswith(FORBIDDEN_LAYERS)]
    assert found == []


# ------------------------------------------------------------------ links and operations agree


def _signed_in(world: World) -> tuple[TokenState, ApplicationState]:
    token = world.issue_token("alice@contoso.com", "ucwa-demo")
    assert token is not None
    app, _ = world.create_application(token, {"userAgent": "t", "endpointId": "e",
                                              "culture": "en-US"})
    poll = app.channel.poll(1, timeout=60)  # polled just now: a live event channel
    app.channel.abandon(poll)
    poll.cancel()
    return token, app


def _accepted(operation: Callable[[], object]) -> bool:
    """Whether the operation went through; a refusal must be the documented 409."""
    try:
        operation()
    except SimError as error:
        status = error.status
    else:
        return True
    assert status == 409
    return False


PHONE_AUDIO_STATES = [("Disconnected", False), ("Connecting", False), ("Connected", False),
                      ("Connected", True)]


@pytest.mark.parametrize(("state", "on_hold"), PHONE_AUDIO_STATES)
@pytest.mark.parametrize("rel", ["addPhoneAudio", "stopPhoneAudio", "holdPhoneAudio",
                                 "resumePhoneAudio"])
def test_a_phone_audio_link_is_shown_exactly_when_its_operation_is_accepted(
        rel: str, state: str, on_hold: bool) -> None:
    async def check() -> None:
        world = World(default_scenario())
        token, app = _signed_in(world)
        conv: ConversationState = app.conversations["1"]
        conv.phone_audio_state, conv.on_hold = state, on_hold
        shown = rel in render.phone_audio(app, conv).links
        target = Target(token, app, conv)
        operations: dict[str, Callable[[], object]] = {
            "addPhoneAudio": lambda: phone_audio.add_phone_audio(
                world, target, {"to": "sip:john@contoso.com"}),
            "stopPhoneAudio": lambda: phone_audio.stop_phone_audio(world, target, {}),
            "holdPhoneAudio": lambda: phone_audio.hold_phone_audio(world, target, {}),
            "resumePhoneAudio": lambda: phone_audio.resume_phone_audio(world, target, {}),
        }
        assert _accepted(operations[rel]) == shown
        world.shutdown()

    _run_apart(check)


def test_make_me_available_is_shown_exactly_while_it_is_accepted() -> None:
    async def check() -> None:
        world = World(default_scenario())
        _, app = _signed_in(world)
        for _ in range(2):
            shown = "makeMeAvailable" in render.me(app).links
            assert _accepted(lambda: me.make_me_available(world, app, {})) == shown
        assert "makeMeAvailable" not in render.me(app).links

    _run_apart(check)


def test_cancel_and_continue_are_shown_exactly_while_they_are_accepted() -> None:
    async def check() -> None:
        world = World(default_scenario())
        token, app = _signed_in(world)
        log = app.user.logs["1"]
        for _ in range(2):
            shown = "continuePhoneAudio" in render.conversation_log(app, log,
                                                                    world.scenario).links
            assert _accepted(lambda: phone_audio.continue_phone_audio(
                world, Target(token, app, log), {})) == shown
        assert log.call is not None
        inv = log.call
        for _ in range(2):
            shown = "cancel" in render.invitation(inv, world.scenario).links
            assert _accepted(lambda: calls.cancel(world, inv)) == shown
        assert "continuePhoneAudio" in render.conversation_log(app, log, world.scenario).links
        world.shutdown()

    _run_apart(check)
