"""A real JupyterHub for the class test (test_jupyterhub.py): jupyterhub from PyPI (the `hub`
extra), its proxy configurable-http-proxy from the npm registry (``.ci/run`` installs it),
the dummy authenticator and the simple local-process spawner, all on 127.0.0.1 on free ports,
in a temporary directory.

The hub's configuration is ``docs/jupyterhub_config.py``, the fragment the guide tells
trainers to use, loaded as is; what this file adds is only what a test machine needs (ports,
where the hub keeps its files, who may log in, where users' home directories are). Every
wait is bounded; the hub, its proxy, the simulator service and the users' servers are
stopped at the end (the hub stops what it started; its process group is killed if it hangs).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from .conftest import NOTEBOOKS, ROOT, free_port, log_tail

FRAGMENT = ROOT / "docs" / "jupyterhub_config.py"
SERVICE = "ucwa-nb"
TRAINERS = "ucwa-nb-trainers"
TRAINER = "trainer"

HUB_START_TIMEOUT = 60.0  # s until the hub and the simulator service answer (3 s measured)
HUB_STOP_TIMEOUT = 30.0  # s for the hub to stop its users' servers, the service and the proxy
SPAWN_TIMEOUT_MS = 90_000  # log-in to JupyterLab on the user's own server (6 s measured)

# The test's own additions to the fragment. The users' notebooks: the hub copies notebooks/
# into each new home directory before the server starts, as nbgitpuller would on a real hub,
# with the "Jupyter news?" pop-up off there (docs/classroom.md says how on a real hub).
_CONFIG = """\
import shutil
from pathlib import Path

c = get_config()  # noqa: F821
load_subconfig({fragment!r})  # noqa: F821  (docs/jupyterhub_config.py, as trainers use it)

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = {base!r} + "/proxy.pid"
c.JupyterHub.db_url = "sqlite:///" + {base!r} + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = {base!r} + "/cookie_secret"
c.JupyterHub.authenticator_class = "dummy"  # any name, any password: a test class
c.Authenticator.allow_all = True
c.JupyterHub.load_groups["{trainers}"] = {{"users": ["{trainer}"]}}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {base!r} + "/home/{{username}}"
c.Spawner.args = ["--allow-root"]  # test machines run as root
c.Spawner.default_url = "/lab"


def give_the_notebooks(spawner):
    home = Path(spawner.home_dir)
    if not home.exists():
        shutil.copytree({notebooks!r}, home,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.har"))
        labconfig = home / ".jupyter" / "labconfig"
        labconfig.mkdir(parents=True)
        (labconfig / "page_config.json").write_text(
            '{{"disabledExtensions": {{"@jupyterlab/apputils-extension:announcements": true}}}}')


c.Spawner.pre_spawn_hook = give_the_notebooks
"""


def configurable_http_proxy() -> str:
    """The hub's proxy; skips without it, fails under CI (``.ci/run`` installs it)."""
    found = shutil.which("configurable-http-proxy")
    if found is not None:
        return found
    reason = ("configurable-http-proxy not found: JupyterHub needs it (npm install -g "
              "configurable-http-proxy, with Node.js)")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and the JupyterHub test cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


class JupyterHub:
    """The hub process and what it serves: ``url``, the simulator service's ``service_url``."""

    def __init__(self, base: Path, proxy: str) -> None:
        self.base = base
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.service_url = f"{self.url}/services/{SERVICE}"
        self.log = base / "jupyterhub.log"
        config = base / "jupyterhub_config.py"
        config.write_text(_CONFIG.format(
            fragment=str(FRAGMENT), port=self.port, hub_port=free_port(),
            proxy_api_port=free_port(), proxy=proxy, base=str(base), trainers=TRAINERS,
            trainer=TRAINER, notebooks=str(NOTEBOOKS)), "utf-8")
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("JUPYTER", "UCWA_NB_"))}
        env.update(
            # This environment's commands first: ucwa-nb (the service), jupyterhub-singleuser.
            PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            UCWA_NB_SEED=secrets.token_urlsafe(32),  # the class's secret, new every run
            UCWA_NB_PORT=str(free_port()),
            UCWA_NB_PUBLIC_URL=self.url,
        )
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=base, env=env,
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)  # its own process group, killed if it hangs

    def wait_ready(self) -> None:
        """Until the hub's API and the simulator, through the proxy, answer."""
        deadline = time.monotonic() + HUB_START_TIMEOUT
        wanted = [f"{self.url}/hub/api/", f"{self.service_url}/autodiscover/"
                  "autodiscoverservice.svc/root"]
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while wanted:
                try:
                    if client.get(wanted[0]).status_code == 200:
                        wanted.pop(0)
                        continue
                except httpx.TransportError:
                    pass  # not listening yet
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterHub did not start ({wanted[0]} did not answer 200)"
                                f"\n--- {self.log}:\n{log_tail(self.log)}", pytrace=False)
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=HUB_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=HUB_STOP_TIMEOUT)

    def home(self, name: str) -> Path:
        return self.base / "home" / name

    def log_in(self, page: Page, name: str, next_path: str = "") -> None:
        """The hub's login form, as a person fills it (the dummy authenticator takes any
        password); waits until the page has left it."""
        page.goto(f"{self.url}/hub/login" + (f"?next={next_path}" if next_path else ""))
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password").fill("any password")
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/hub/login"), timeout=SPAWN_TIMEOUT_MS)

    def activity(self, page: Page) -> list[dict[str, str]]:
        """The trainer's view, opened in ``page``: the table's rows, by column heading."""
        page.goto(f"{self.service_url}/_simulator/activity")
        expect(page.get_by_role("heading", name="Every call so far")).to_be_visible()
        calls = page.locator("table#calls")  # the page has the exercises' grid too
        headings = [h.replace(" ", "_") for h in calls.locator("thead th").all_inner_texts()]
        return [dict(zip(headings, row.locator("td").all_inner_texts(), strict=True))
                for row in calls.locator("tbody tr").all()]
