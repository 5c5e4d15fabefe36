"""The session's own ``httpx.Client``, layered over the client it was given, and its bounded
read of every response.

A session never changes the ``httpx.Client`` it is given (``connect(http_client=...)``): it
makes a client of its own (its logging hooks, its ``BearerToken`` auth, the given client's
timeout, headers and redirect settings) whose transport sends each request on through the
given client (``ThroughClient``), so that client's transport, TLS settings, proxies and event
hooks still apply, and closing the session leaves it exactly as it was. This is the shape of
respx and of httpx's own ``MockTransport``: everything through the public transport API.

``BoundedRead`` reads each body before the session's hooks see it, at most ``READ_LIMIT``
bytes (decoded: a gzip bomb counts at its real size) and no later than the request's timeout
after it was handed over (httpx's own timeout is per read: a server sending a byte a second
never trips it). The response handed back is a new ``httpx.Response`` built from what was read;
a body cut short is marked in the request's extensions (``outcome_of``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["READ_LIMIT", "BoundedRead", "CutShort", "ThroughClient", "note_outcome",
           "outcome_of", "session_client"]

# UCWA answers are kilobytes (an event batch of a busy application some tens of them): a
# response past 4 MiB is not UCWA, and reading on would only fill memory.
READ_LIMIT = 4 * 1024 * 1024
_OUTCOME = "ucwa_nb.outcome"


@dataclass(frozen=True)
class CutShort:
    """Why a response's body was not read to its end: ``too_large`` (past READ_LIMIT),
    ``too_slow`` (past the call's deadline) or ``failed`` (the connection broke, or the body
    could not be decoded)."""

    why: str
    read: int
    error: httpx.RequestError | None = None


def outcome_of(request: httpx.Request) -> CutShort | None:
    """How the last response to ``request`` was read: None when read whole."""
    value = request.extensions.get(_OUTCOME)
    return value if isinstance(value, CutShort) else None


class ThroughClient(httpx.BaseTransport):
    """A transport that sends each request through another ``httpx.Client``: its transport,
    TLS, proxies and event hooks apply; its auth and redirects do not (the session's client
    decides both, so that each hop is logged and the token goes only where trust allows).
    Closing it closes that client only if ``owned``."""

    def __init__(self, client: httpx.Client, *, owned: bool) -> None:
        self.client = client
        self._owned = owned

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.client.send(request, stream=True, auth=None, follow_redirects=False)

    def close(self) -> None:
        if self._owned:
            self.client.close()


class _Recording(httpx.SyncByteStream):
    """A response's raw stream, each chunk noted as it is read."""

    def __init__(self, stream: httpx.SyncByteStream) -> None:
        self._stream = stream
        self.chunks: list[bytes] = []

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self.chunks.append(chunk)
            yield chunk

    def close(self) -> None:
        self._stream.close()


class _Replay(httpx.SyncByteStream):
    """Raw chunks already read, handed out again (not a ByteStream: httpx would decode it
    in the constructor, inside the transport)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks


def _deadline(request: httpx.Request, started: float) -> float | None:
    """The whole call's deadline: the longest of its timeouts after it started."""
    timeout = request.extensions.get("timeout")
    values = [v for v in (timeout or {}).values() if isinstance(v, int | float)]
    return started + max(values) if values else None


class BoundedRead(httpx.BaseTransport):
    """Reads every response whole before handing it on, within READ_LIMIT and the
    request's deadline; a body cut short is handed on as far as it was read."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = self.inner.handle_request(request)
        try:
            # Read already, by a transport of the caller's that looked at it (its stream is
            # spent): handed on as it is, and past READ_LIMIT still refused.
            size = len(response.content)
        except httpx.ResponseNotRead:
            pass
        else:
            request.extensions[_OUTCOME] = \
                CutShort("too_large", size) if size > READ_LIMIT else None
            return response
        assert isinstance(response.stream, httpx.SyncByteStream)  # a sync transport's
        recording = _Recording(response.stream)
        deadline = _deadline(request, started)
        if response.headers.get("content-encoding", "identity").lower() == "identity":
            kept, outcome = self._read(iter(recording), recording.close, recording, deadline)
        else:
            # Decoded as the session's client will decode it: the limit is on real bytes.
            probe = httpx.Response(response.status_code, headers=response.headers,
                                   stream=recording)
            kept, outcome = self._read(probe.iter_bytes(), probe.close, recording, deadline)
        request.extensions[_OUTCOME] = outcome  # on every hop: a redirect shares extensions
        return httpx.Response(response.status_code, headers=response.headers,
                              stream=_Replay(kept), extensions=response.extensions)

    @staticmethod
    def _read(body: Iterator[bytes], close: Callable[[], None], recording: _Recording,
              deadline: float | None) -> tuple[list[bytes], CutShort | None]:
        """The raw chunks to hand on and how the read of ``body`` (decoded) ended."""
        size = 0
        try:
            for chunk in body:
                size += len(chunk)
                if size > READ_LIMIT:
                    # Without the chunk that went past: what is handed on decodes to at most
                    # READ_LIMIT bytes, however much that last chunk would have inflated to.
                    return recording.chunks[:-1], CutShort("too_large", size)
                if deadline is not None and time.perf_counter() > deadline:
                    return recording.chunks, CutShort("too_slow", size)
        except httpx.TransportError as exc:  # the connection broke: keep what came
            return recording.chunks, CutShort("failed", size, exc)
        except httpx.DecodingError as exc:
            # What was decoded before the error decodes again; the chunk that failed does not.
            return recording.chunks[:-1], CutShort("failed", size, exc)
        finally:
            close()  # past the limit or the deadline: the connection is closed
        return recording.chunks, None


def note_outcome(request: httpx.Request, outcome: CutShort) -> None:
    """Mark ``request``'s response as cut short after all (its body failed to decode when
    the session's client read what ``BoundedRead`` handed on)."""
    request.extensions[_OUTCOME] = outcome


def session_client(inner: httpx.Client, *, owned: bool, auth: httpx.Auth,
                   event_hooks: dict[str, list[Callable[..., Any]]]) -> httpx.Client:
    """The session's own client over ``inner``: ``auth`` and ``event_hooks`` are the
    session's; timeout, headers, cookies, params, base URL and redirect settings are
    ``inner``'s, read once. ``inner`` itself is left as it was; closing the returned client
    closes it only if ``owned``."""
    return httpx.Client(
        transport=BoundedRead(ThroughClient(inner, owned=owned)), auth=auth,
        event_hooks=event_hooks, timeout=inner.timeout, headers=inner.headers,
        cookies=inner.cookies, params=inner.params, base_url=inner.base_url,
        follow_redirects=inner.follow_redirects, max_redirects=inner.max_redirects,
        # Proxies and TLS from the environment are the inner client's business.
        trust_env=False)
