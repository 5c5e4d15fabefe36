"""A web application on another origin calls through the simulator's cross-domain frame.

The page (``pages/call_via_work.html``, our own) is served by a second small HTTP server on
loopback, so its origin differs from the simulator's (another port: RFC 6454). It uses only
the frame's documented postMessage protocol (Cross_domainIFRAME.md): autodiscovery on the
discovery host's ``/``, the password grant, an application, its event channel,
makeMeAvailable, startPhoneAudio to John and the call's events until it completes; with the
root's and user's links relative (root_ref.md's sample) and absolute (CreateAnApplication.md's
trace). The same page from an origin not on the web application allow list is refused with
the 403 real servers give, read by the page from ``X-Ms-diagnostics``.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from support import ALICE, JOHN, fast_scenario

from ucwa_nb import Simulator
from ucwa_nb.sim.cross_domain import CROSS_DOMAIN_REFUSAL

from .conftest import CALL_TIMEOUT_MS

pytestmark = pytest.mark.browser

PAGE = Path(__file__).with_name("pages") / "call_via_work.html"


class _PageHandler(http.server.BaseHTTPRequestHandler):
    """Serves the test page at ``/`` and nothing else."""

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/":
            self.send_error(404)
            return
        body = PAGE.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: pytest shows a failure's own output


StartPage = Callable[[], str]


@pytest.fixture
def page_origin() -> Iterator[StartPage]:
    """``page_origin()`` starts a web server for the page on a free loopback port and
    returns its origin; each call is another origin."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start() -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}"

    try:
        yield start
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def _call(page: Page, origin: str, sim: Simulator, user: tuple[str, str] = ALICE) -> None:
    page.goto(origin + "/")
    page.get_by_label("Discovery host").fill(sim.base_url + "/")
    page.get_by_label("Sign-in name").fill(user[0])
    page.get_by_label("Password").fill(user[1])
    page.get_by_label("Call").fill(JOHN)
    page.get_by_role("button", name="Call").click()


@pytest.mark.parametrize("absolute_links", [False, True], ids=["relative", "absolute"])
def test_a_page_on_the_allow_list_calls_through_the_frame(
        page: Page, page_origin: StartPage, absolute_links: bool) -> None:
    origin = page_origin()
    sim = Simulator(fast_scenario(allowed_origins=[origin], absolute_links=absolute_links))
    try:
        _call(page, origin, sim)
        expect(page.get_by_role("status")).to_have_text("call completed: Success",
                                                        timeout=CALL_TIMEOUT_MS)
        steps = page.locator("#steps li")
        expect(steps.first).to_have_text("GET / -> 200")
        # Each step of the page, in order, every one an answer the frame posted back.
        for text in ("GET /autodiscover/autodiscoverservice.svc/root/oauth/user -> 401",
                     "POST /WebTicket/oauthtoken -> 200",
                     "POST /ucwa/oauth/v1/applications -> 201",
                     "/me/makeMeAvailable -> 204",
                     "/communication/startPhoneAudio -> 201",
                     "event started phoneAudioInvitation",
                     "event completed phoneAudioInvitation Success",
                     "DELETE /ucwa/oauth/v1/applications/"):
            expect(steps.filter(has_text=text)).not_to_have_count(0)
    finally:
        sim.stop()


def test_a_page_off_the_allow_list_is_refused(page: Page, page_origin: StartPage) -> None:
    allowed, other = page_origin(), page_origin()
    sim = Simulator(fast_scenario(allowed_origins=[allowed]))
    try:
        _call(page, other, sim)
        expect(page.get_by_role("status")).to_have_text(f"refused: 403 {CROSS_DOMAIN_REFUSAL}",
                                                        timeout=CALL_TIMEOUT_MS)
        # Refused at the first request: nothing else was sent.
        expect(page.locator("#steps li")).to_have_text(["GET / -> 403"])
    finally:
        sim.stop()


# Posts one message to the simulator's frame and resolves with the frame's answer (or
# {"timeout": true} after 10 s: bounded, unlike a bare evaluate that waits forever).
_ASK_FRAME = """async ({origin, message}) => {
  const frame = await frameFor(origin);
  return await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({timeout: true}), 10000);
    window.addEventListener("message", (event) => {
      if (event.origin !== origin) { return; }
      clearTimeout(timer);
      resolve({raw: typeof event.data, answer: typeof event.data === "string"
                                                ? JSON.parse(event.data) : event.data});
    }, {once: true});
    frame.postMessage(message, origin);
  });
}"""


def test_the_frame_answers_both_forms_and_only_for_its_own_server(
        page: Page, page_origin: StartPage) -> None:
    origin = page_origin()
    sim = Simulator(fast_scenario(allowed_origins=[origin]))
    try:
        page.goto(origin + "/")
        target = sim.base_url
        # An object (not a JSON string), wrapped as Cross_domainIFRAME.md's example posts it:
        # answered with an object, its header names as IIS writes them.
        reply = page.evaluate(_ASK_FRAME, {"origin": target, "message": {"request": {
            "type": "get", "url": sim.url, "accepts": "application/json",
            "messageId": {"Id": 7}}}})
        assert reply["raw"] == "object"
        answer = reply["answer"]
        assert (answer["status"], answer["messageId"]) == (200, {"Id": 7})
        assert '"rel":"root"' in answer["responseText"]
        names = [line.split(":", 1)[0] for line in answer["headers"].split("\r\n")]
        assert {"Content-Type", "X-MS-UcwaVersion", "X-Content-Type-Options"} <= set(names)
        # A URL of another origin is not sent: the frame is no relay for the page.
        reply = page.evaluate(_ASK_FRAME, {"origin": target, "message": (
            '{"type": "GET", "url": "http://127.0.0.1:9/elsewhere", "messageId": "m"}')})
        assert reply["raw"] == "string"
        assert reply["answer"] == {"status": 0, "statusText": "error", "responseText": "",
                                   "headers": "", "messageId": "m"}
    finally:
        sim.stop()
