"""Navigation: send a request, GET a resource, follow a link by rel.

URLs are never built by hand: every href comes from a link, resolved against the resource that
offered it, and query strings the server put in a link are kept. Every link seen is remembered
(by resource and rel), so a link that is no longer offered can still be used on purpose, as a
racing client would, to show the server's answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

import httpx

from ucwa_nb.client.errors import UcwaError, UntrustedHostError
from ucwa_nb.client.hooks import ExchangeHooks, absolute, tag
from ucwa_nb.client.preferences import Preferences
from ucwa_nb.client.transport import READ_LIMIT, outcome_of
from ucwa_nb.client.trust import Trust, bearer_of
from ucwa_nb.protocol.representation import ParseError, Resource, media_type, parse

__all__ = ["Navigator"]

# An auth that adds nothing: discovery's requests go out without the token.
_NO_AUTH = httpx.Auth()


class _SendOptions(TypedDict, total=False):
    """What ``httpx.Client.send`` is told beyond the request; a key left out means the
    client's own setting (its BearerToken auth, its redirect policy)."""

    auth: httpx.Auth
    follow_redirects: bool


class Navigator:
    def __init__(self, http_client: httpx.Client, hooks: ExchangeHooks,
                 preferences: Preferences) -> None:
        self.http_client = http_client
        # The token goes out through the client's auth, so raw calls obey the trust rule too.
        self._bearer = bearer_of(http_client)
        self._hooks = hooks
        self._preferences = preferences
        self._link_cache: dict[str, str] = {}
        # What else is wrong, for the message of a transport error (the event channel's
        # trouble); set by whoever owns the channel.
        self.trouble: Callable[[], str] = lambda: ""

    @property
    def hooks(self) -> ExchangeHooks:
        """The session's logging hooks (a request sent on another client, logged the same)."""
        return self._hooks

    @property
    def trust(self) -> Trust | None:
        """Where the credentials may go (set at sign-in)."""
        return self._bearer.trust

    def request(self, method: str, url: str, *, rel: str | None,
                operation_id: str | None = None, content: bytes | None = None,
                content_type: str | None = None, accept: str | None = None,
                params: Mapping[str, str] | None = None, data: Mapping[str, str] | None = None,
                timeout: httpx.Timeout | float | None = None, raise_errors: bool = True,
                authenticate: bool = True, follow_redirects: bool | None = None,
                auth: httpx.Auth | None = None,
                trace: Callable[[str, dict[str, Any]], None] | None = None) -> httpx.Response:
        """Send one request (logged by the hooks, a failure to connect too); ``trace``: httpx's
        trace extension, told of each step of the exchange (``...send_request_body.complete``).

        Raises ``UcwaError`` for an error status (with ``raise_errors``) and for a body past
        ``READ_LIMIT``, ``httpx.ReadTimeout`` when the whole call outlasts its timeout,
        ``UntrustedHostError`` (nothing sent) when the token would go to another origin.
        """
        headers = {"Accept": accept or media_type(self._preferences.format)}
        if content_type:
            headers["Content-Type"] = content_type
        request_url = httpx.URL(url)
        if params:
            request_url = request_url.copy_merge_params(dict(params))
        client = self.http_client
        request = client.build_request(
            method, request_url, content=content, data=data, headers=headers,
            extensions=tag(rel, operation_id) | ({"trace": trace} if trace is not None else {}),
            timeout=timeout if timeout is not None else client.timeout)
        if not authenticate:
            request.headers.pop("Authorization", None)
            auth = _NO_AUTH
        options = _SendOptions()
        if auth is not None:
            options["auth"] = auth
        if follow_redirects is not None:
            # False overrides a caller's client that follows redirects: discovery and
            # sign-in follow one only after the same-domain check.
            options["follow_redirects"] = follow_redirects
        started = time.perf_counter()
        try:
            response = client.send(request, **options)
        except UntrustedHostError as exc:  # refused before sending: the row says so
            self._hooks.record_failure(request, exc, 0.0, content_type)
            raise
        except httpx.HTTPError as exc:
            self._hooks.record_failure(request, exc, (time.perf_counter() - started) * 1000,
                                       content_type)
            if isinstance(exc, httpx.TransportError):
                # httpx says "[Errno 111] Connection refused" and no more: name the request
                # (no query, like UcwaError; a URL never holds the token) and, when the
                # event channel fails too, since when the server has been unreachable.
                raise type(exc)(f"{str(exc) or type(exc).__name__} ({method} "
                                f"{request.url.copy_with(query=None)}{self.trouble()})",
                                request=request) from exc
            raise
        self._raise_if_cut_short(response)
        if raise_errors and response.status_code >= 400:
            raise UcwaError.from_response(response, self._hooks.log.redactor.text)
        return response

    def _raise_if_cut_short(self, response: httpx.Response) -> None:
        outcome = outcome_of(response.request)
        if outcome is None:
            return
        request = response.request
        where = f"{request.method} {request.url.copy_with(query=None)}"
        if outcome.why == "too_large":
            raise UcwaError(response.status_code, "ResponseTooLarge",
                            message=f"the answer is larger than {READ_LIMIT} bytes; not read on",
                            method=request.method, url=str(request.url.copy_with(query=None)))
        if outcome.why == "too_slow":
            raise httpx.ReadTimeout(f"the whole answer did not come within the timeout "
                                    f"({outcome.read} bytes read) ({where})", request=request)
        error = outcome.error or httpx.ReadError("the answer broke off", request=request)
        raise type(error)(f"{error} ({where})", request=request)

    def get(self, url: str, rel: str | None, *, auth: httpx.Auth | None = None,
            follow_redirects: bool | None = None, authenticate: bool = True) -> Resource:
        """GET a resource; its href comes back absolute and its links are remembered."""
        response = self.request("GET", url, rel=rel, auth=auth, authenticate=authenticate,
                                follow_redirects=follow_redirects)
        try:
            parsed = parse(response.content, response.headers.get("content-type"))
        except ParseError as exc:  # an HTML page, junk, hostile nesting
            raise UcwaError(response.status_code, "UnexpectedBody",
                            message=f"{rel} did not answer a UCWA resource ({exc})",
                            url=url, redact=self._hooks.log.redactor.text) from None
        if not isinstance(parsed, Resource):
            raise UcwaError(response.status_code, "UnexpectedBody",
                            message=f"{rel} did not answer a resource", url=url)
        if parsed.href:
            parsed.href = absolute(parsed.href, response)
            for link_rel, links in parsed.links.items():
                if links:
                    self._link_cache[f"{parsed.href}#{link_rel}"] = \
                        absolute(links[0].href, response)
        return parsed

    def follow(self, resource: Resource, rel: str) -> Resource:
        """GET what ``resource`` links to by ``rel``; UcwaError LinkNotOffered if nothing."""
        url = self.link(resource, rel)
        if url is None:
            raise UcwaError(0, "LinkNotOffered",
                            message=f"{resource.rel} offers no {rel!r} link right now")
        return self.get(url, rel)

    def link(self, resource: Resource, rel: str) -> str | None:
        """The absolute href of ``resource``'s ``rel`` link, None when it offers none now."""
        link = resource.link(rel)
        return absolute(link.href, resource.href or "") if link else None

    def remembered_link(self, resource: Resource, rel: str) -> str | None:
        """The ``rel`` link this resource offered when it was last seen offering one."""
        return self._link_cache.get(f"{resource.href}#{rel}")
