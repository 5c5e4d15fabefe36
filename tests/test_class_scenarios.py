"""Every scenario docs/classroom.md offers runs every notebook, for an attendee of a hub.

The guide offers two: the default scenario (``ucwa-nb serve --jupyterhub`` with no
``UCWA_NB_SCENARIO``) and its own example ``class.toml`` (the TOML block, as a trainer copies
it). Each is served by a simulator as the hub's service serves it, and the nine notebooks run
under nbval (``--nbval-lax``: every cell runs, the marked ones are compared) in a kernel whose
environment is what the hub's fragment hands an attendee's server: ``UCWA_NB_URL``,
``UCWA_NB_USERNAME`` (the hub user ``ada``, an account made on first sign-in like the
scenario's first user) and ``UCWA_NB_PASSWORD`` (derived from the class's seed). The guide's
example used to break the quick start for every attendee (an ``IndexError``: it had one
conversation).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from ucwa_nb.sim import Scenario, Simulator, scenarios
from ucwa_nb.sim.classroom import attendee_password
from ucwa_nb.sim.scenario_loader import scenario_from_dict

REPOSITORY = Path(__file__).resolve().parents[1]
GUIDE = REPOSITORY / "docs" / "classroom.md"
SEED = "the class seed of this test, 32 chars"
ATTENDEE = "ada@contoso.com"
NOTEBOOKS_TIMEOUT = 600.0  # s for the nine notebooks; about 50 s on an idle 2-core machine


def _guides_class_scenario() -> Scenario:
    block = GUIDE.read_text("utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    return scenario_from_dict(tomllib.loads(block), name="class")


OFFERED: dict[str, Callable[[], Scenario]] = {
    "default": lambda: scenarios.for_jupyterhub("contoso.com"),
    "class.toml": _guides_class_scenario,
}


@pytest.mark.slow  # nine notebooks, each in a kernel of its own
@pytest.mark.parametrize("offered", list(OFFERED))
def test_every_notebook_runs_for_an_attendee(offered: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UCWA_NB_SEED", SEED)
    with Simulator(OFFERED[offered]()) as sim:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("PYTEST_", "UCWA_")) and not key.lower().endswith("_proxy")}
        env.update(PYTHONPATH=str(REPOSITORY), UCWA_NB_URL=sim.url, UCWA_NB_USERNAME=ATTENDEE,
                   UCWA_NB_PASSWORD=attendee_password(SEED, f"sip:{ATTENDEE}"))
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
             "--nbval-lax", "--nbval-current-env", "-q", "-x", str(REPOSITORY / "notebooks")],
            cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=NOTEBOOKS_TIMEOUT,
            check=False)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-6000:]
        # The quick start signed in as the attendee, through the environment.
        signed_in = sim.call(lambda: sorted(user.spec.username for user in
                                            sim.world.accounts.users.values()))
        assert ATTENDEE in signed_in, signed_in
