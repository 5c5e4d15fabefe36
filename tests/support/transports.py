"""httpx transport wrappers for the client tests, and what a test reads off a request.

The wrappers sit between the client's ``httpx.Client`` and the real loopback socket of the
simulator, so a test can lose a response, refuse a connection, hold a request back, or route
made-up host names (``lyncdiscover.contoso.com``) to the simulator without any real DNS.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import httpx

from ucwa_nb import Session
from ucwa_nb.client.trust import bearer_of
from ucwa_nb.sim import paths


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


def client_from(address: str, base_url: str, timeout: float = 10.0) -> httpx.Client:
    """An httpx client whose connections leave from ``address`` (any of 127/8 on Linux):
    one attendee, or one classroom host, as the simulator's limits see it."""
    return httpx.Client(base_url=base_url, timeout=timeout,
                        transport=httpx.HTTPTransport(local_address=address))


def password_form(username: str, password: str) -> dict[str, str]:
    """The token endpoint's form for the password grant."""
    return {"grant_type": "password", "username": username, "password": password}
