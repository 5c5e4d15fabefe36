"""Helpers for the client tests: fast scenarios, bounded waits and httpx transport wrappers.

The wrappers sit between the client's ``httpx.Client`` and the real loopback socket of the
simulator, so a test can lose a response, refuse a connection, hold a request back, or route
made-up host names (``lyncdiscover.contoso.com``) to the simulator without any real DNS.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import tomllib
from collections.abc import Callable
from importlib import resources
from typing import Any

import httpx

from ucwa_nb import Scenario, Session, Simulator
from ucwa_nb.client.trust import bearer_of
from ucwa_nb.sim import paths
from ucwa_nb.sim.scenario_loader import scenario_from_dict

ALICE = ("alice@contoso.com", "ucwa-demo")
GUEST = ("guest@contoso.com", "ucwa-demo-guest")
JOHN = "sip:john@contoso.com"
MARIA = "sip:maria@contoso.com"
PIERRE = "sip:pierre@contoso.com"
NORA = "sip:nora@contoso.com"
NOBODY = "sip:nobody@contoso.com"
DESK_PHONE_NEVER_ANSWERED = "tel:+14255550199"
SUCCESS_TYPES = ["started", "updated", "updated", "completed"]
SUCCESS_STATES = ["Connecting", "Connecting", "Alerting", "Connected"]
WAIT = 5.0  # the longest any single wait in these tests may take

MakeSim = Callable[..., Simulator]
MakeSession = Callable[..., Session]


def default_scenario_dict() -> dict[str, Any]:
    """The shipped default scenario, as the dict ``scenario_from_dict`` takes."""
    text = resources.files("ucwa_nb.sim").joinpath("default.toml").read_text("utf-8")
    return tomllib.loads(text)


def fast_scenario_dict(**server: float) -> dict[str, Any]:
    """The default scenario with short delays: phones ring for tens of milliseconds, a phone
    that is never answered gives up after ``ring_timeout`` (0.3 s unless overridden)."""
    data = copy.deepcopy(default_scenario_dict())
    # min_poll_timeout: the tests poll for 1 to 5 s, below the 180 s real servers allow.
    data["server"] = {**data.get("server", {}), "ring_timeout": 0.3, "min_poll_timeout": 0.2,
                      **server}
    for user in data["users"]:
        user["own_phone"] = {**user.get("own_phone", {}), "after": 0.02}
    for contact in data["contacts"]:
        contact["after"] = 0.05
    return data


def fast_scenario(**server: float) -> Scenario:
    return scenario_from_dict(fast_scenario_dict(**server), name="fast")


def wait_until(predicate: Callable[[], object], timeout: float = WAIT,
               what: str = "condition") -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


def wait_for_parked_poll(sim: Simulator) -> None:
    """Until every application of ``sim`` has an event poll parked: connect() returns once
    its event thread has started, and a POST that beats the first poll gets 500
    CallbackChannelError, as a real server would answer."""
    def parked() -> bool:
        return sim.call(lambda: all(app.channel.parked is not None
                                    for app in sim.world.apps.values()))
    wait_until(parked, what="an event poll parked on the simulator")


def bearer_token(session: Session) -> str:
    """The token the client sends (its BearerToken auth adds it to each request)."""
    token = bearer_of(session.http_client).token
    assert token is not None, "not signed in"
    return token


def is_event_poll(request: httpx.Request) -> bool:
    return request.method == "GET" and request.url.path.endswith("/events")


def operation_id_of(request: httpx.Request) -> str | None:
    """The operationId of a JSON operation POST (None for other requests)."""
    if request.method != "POST" or b"operationId" not in request.content:
        return None
    try:
        value = json.loads(request.content).get("operationId")
    except ValueError:
        return None
    return value if isinstance(value, str) else None


BeforeHook = Callable[[httpx.Request], httpx.Response | None]
AfterHook = Callable[[httpx.Request, httpx.Response], httpx.Response | None]


class HookTransport(httpx.BaseTransport):
    """A transport wrapper with hooks around each request.

    A ``before`` hook may raise (the request never reaches the server: ConnectError), block,
    or return a response of its own. An ``after`` hook sees the server's response and may
    raise (the response is lost on the way back: ReadError), block (hold the response), or
    return a replacement. Thread-safe enough for one client thread plus the event thread.
    """

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.before: list[BeforeHook] = []
        self.after: list[AfterHook] = []
        self.sent: list[httpx.Request] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.sent.append(request)
        for early in list(self.before):
            replacement = early(request)
            if replacement is not None:
                return replacement
        response = self.inner.handle_request(request)
        for hook in list(self.after):
            try:
                swapped = hook(request, response)
            except BaseException:
                response.read()
                response.close()
                raise
            if swapped is not None:
                response.read()
                response.close()
                response = swapped
        return response

    def polls_sent(self) -> int:
        with self._lock:
            return sum(1 for r in self.sent if is_event_poll(r))

    def close(self) -> None:
        self.inner.close()


class FaultyPolls:
    """Hooks that fail the next ``count`` event polls, before or after the server saw them."""

    def __init__(self, transport: HookTransport) -> None:
        self.refuse = 0  # ConnectError: the poll never reaches the server
        self.lose = 0  # ReadError after the server answered a batch with events in it
        self.failed: list[str] = []
        self._lock = threading.Lock()
        transport.before.append(self._before)
        transport.after.append(self._after)

    def _before(self, request: httpx.Request) -> httpx.Response | None:
        if is_event_poll(request):
            with self._lock:
                if self.refuse > 0:
                    self.refuse -= 1
                    self.failed.append("connect")
                    raise httpx.ConnectError("simulated: connection refused", request=request)
        return None

    def _after(self, request: httpx.Request, response: httpx.Response) -> None:
        if is_event_poll(request) and response.status_code == 200:
            body = response.read()
            with self._lock:
                if self.lose > 0 and b"phoneAudioInvitation" in body:
                    self.lose -= 1
                    self.failed.append("read")
                    raise httpx.ReadError("simulated: connection reset by peer",
                                          request=request)


Route = str | Callable[[httpx.Request], httpx.Response]


class Router(httpx.BaseTransport):
    """Routes made-up host names without DNS.

    ``routes`` maps a host name to "sim" (forwarded to the simulator over loopback; the path
    "/" is its autodiscover root, as on ``lyncdiscover.<domain>``), "down" (ConnectError, as
    for a name that does not resolve) or a function that answers the request itself. Requests
    to the simulator's own address pass through; any other host is refused, so a test can
    assert that a host was never contacted (``contacted``).
    """

    def __init__(self, sim_base_url: str, routes: dict[str, Route]) -> None:
        self.sim = httpx.URL(sim_base_url)
        self.routes = routes
        self.inner = httpx.HTTPTransport()
        self.contacted: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        self.contacted.append(str(url))
        if (url.host, url.port) == (self.sim.host, self.sim.port):
            return self.inner.handle_request(request)
        route = self.routes.get(url.host, "down")
        if route == "down":
            raise httpx.ConnectError(f"simulated: {url.host} is unreachable", request=request)
        if callable(route):
            return route(request)
        path = paths.ROOT if url.path == "/" else url.path
        forwarded = httpx.Request(
            request.method,
            url.copy_with(scheme=self.sim.scheme, host=self.sim.host, port=self.sim.port,
                          path=path),
            headers=request.headers,  # keeps Host: the simulator builds its URLs from it
            content=request.content,
            extensions=request.extensions,
        )
        response = self.inner.handle_request(forwarded)
        if url.scheme == "https":
            # The simulator speaks plain HTTP and builds its absolute URLs (the challenge's
            # token URL) from the request: as an HTTPS front end would, they say https.
            plain, secure = f"http://{url.host}", f"https://{url.host}"
            if plain.encode() in b"".join(v for _, v in response.headers.raw):
                response.headers = httpx.Headers(
                    [(k, v.replace(plain.encode(), secure.encode()))
                     for k, v in response.headers.raw])
        return response

    def close(self) -> None:
        self.inner.close()


def redirect_to(location: str, status: int = 302) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"Location": location}, request=request)

    return answer
