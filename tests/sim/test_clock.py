"""The world's clock (``sim/clock.py``): its base time plus what tests moved it on by."""

from __future__ import annotations

import pytest

from ucwa_nb.sim.clock import Clock
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenarios import default


def test_the_clock_is_its_base_plus_every_advance() -> None:
    clock = Clock(lambda: 10.0)
    assert clock() == 10.0
    clock.advance(2.5)
    clock.advance(0.5)
    assert clock() == 13.0
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1.0)


def test_an_application_expires_on_the_worlds_clock() -> None:
    world = World(default(), now=lambda: 0.0)
    token = world.issue_token("alice@contoso.com", "ucwa-demo")
    assert token is not None
    app, _ = world.create_application(token, {"userAgent": "t", "endpointId": "e",
                                              "culture": "en-US"})
    world.clock.advance(world.settings.application_expiry)
    assert world.application(token, app.id) is app  # a request keeps it alive
    world.clock.advance(world.settings.application_expiry + 1)
    world.expire_idle()
    assert app.id not in world.apps
    assert world.retired[app.id] == (app.user.key, "InactiveApplicationExpired")
