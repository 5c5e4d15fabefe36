"""Sign-in: autodiscovery, then the user resource through the OAuth password grant.

The grant is an ``httpx.Auth`` flow (ucwa-protocol.md 1.3): GET the user resource without a
token, read the ``MsRtcOAuth`` challenge of the 401, POST the password grant to its token URL,
and send the GET again with ``Authorization: Bearer``. Every step passes the session's logging
hooks like any other request.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpx

from ucwa_nb.client.discovery import candidate_roots, parse_challenge, same_domain
from ucwa_nb.client.errors import DiscoveryError, UcwaError
from ucwa_nb.client.hooks import absolute, tag
from ucwa_nb.client.navigation import Navigator
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.protocol.representation import ParseError, Resource, parse

__all__ = ["PasswordGrant", "discover", "sign_in"]


class PasswordGrant(httpx.Auth):
    """The 401 challenge answered with the password grant; ``on_token`` gets the token."""

    requires_response_body = True

    def __init__(self, username: str, password: str, on_token: Callable[[str], None]) -> None:
        self._username = username
        self._password = password
        self._on_token = on_token

    def auth_flow(self, request: httpx.Request
                  ) -> Generator[httpx.Request, httpx.Response, None]:
        challenged = yield request
        if challenged.status_code != 401:
            raise DiscoveryError(f"the user resource answered {challenged.status_code}, "
                                 "not the expected 401 challenge")
        challenge = parse_challenge(challenged.headers.get_list("www-authenticate"))
        if challenge is None:
            raise DiscoveryError("the 401 carries no MsRtcOAuth challenge with a token URL")
        if "password" not in challenge.grant_types:
            raise DiscoveryError("the server does not offer the password grant (it offers: "
                                 + ", ".join(challenge.grant_types) + ")")
        reply = yield httpx.Request(
            "POST", absolute(challenge.token_url, challenged),
            headers={"Accept": "application/json"},
            data={"grant_type": "password", "username": self._username,
                  "password": self._password},
            extensions={**tag("token"), "timeout": request.extensions.get("timeout", {})})
        if reply.status_code != 200:
            error = UcwaError.from_response(reply)
            raise DiscoveryError(f"sign-in refused: {error.status} {error.message or error.code}"
                                 + (f" ({error.diagnostics})" if error.diagnostics else ""))
        try:
            token = str(reply.json()["access_token"])
        except (ValueError, KeyError, TypeError):
            raise DiscoveryError("the token endpoint answered no access_token") from None
        self._on_token(token)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


def sign_in(navigator: Navigator, log: ExchangeLog, url: str, *, username: str | None,
            password: str | None, token: str | None) -> str:
    """Discovery (a root URL or a domain), the token, the user resource: the applications URL.

    The token ends up in the client's ``Authorization`` header and, like the password, among
    the log's secrets.
    """
    client = navigator.http_client

    def use_token(value: str) -> None:
        bare = value.removeprefix("Bearer ").strip()
        log.add_secret(value)
        log.add_secret(bare)
        client.headers["Authorization"] = f"Bearer {bare}"

    root_url = url if "://" in url else discover(navigator, url)
    try:
        root = navigator.get(root_url, "root")
    except ParseError as exc:  # an HTML page or other non-UCWA answer: say which step
        raise DiscoveryError(f"{root_url} is not a UCWA autodiscover root ({exc})") from None
    user_url = navigator.link(root, "user")
    if user_url is None:
        raise DiscoveryError(f"{root_url} is not a UCWA autodiscover root (no user link)")
    if token is not None:
        use_token(token)
        user = navigator.get(user_url, "user")
    elif username and password:
        log.add_secret(password)
        # No redirects: a 307 must not carry the password elsewhere.
        user = navigator.get(user_url, "user", auth=PasswordGrant(username, password, use_token),
                             follow_redirects=False)
    else:
        raise DiscoveryError("sign-in needs username and password, or token")
    redirect = navigator.link(user, "redirect")
    if redirect is not None and user.link("applications") is None:
        user = navigator.get(redirect, "redirect")
    applications_url = navigator.link(user, "applications")
    if applications_url is None:
        raise DiscoveryError("the user resource offers no applications link")
    return applications_url


def discover(navigator: Navigator, domain: str) -> str:
    """The autodiscover root of ``domain``: internal before external, HTTPS before HTTP, and
    a redirect followed only within the domain."""
    tried = []
    for candidate in candidate_roots(domain):
        try:
            response = navigator.request("GET", candidate, rel="autodiscover",
                                         raise_errors=False, authenticate=False,
                                         follow_redirects=False)
        except httpx.HTTPError as exc:
            tried.append(f"{candidate}: {type(exc).__name__}")
            continue
        if response.is_redirect:
            target = absolute(response.headers.get("location", ""), response)
            if not same_domain(target, domain):
                tried.append(f"{candidate}: redirect to another domain refused ({target})")
                continue
            return target
        if response.status_code == 200:
            try:
                root = parse(response.content, response.headers.get("content-type"))
            except ParseError:
                tried.append(f"{candidate}: not a UCWA answer")
                continue
            if isinstance(root, Resource):
                redirect = root.link("redirect")
                if redirect is not None and root.link("user") is None:
                    target = absolute(redirect.href, response)
                    if not same_domain(target, domain):
                        tried.append(f"{candidate}: redirect link to another domain refused")
                        continue
                    return target
                return str(response.url)
        tried.append(f"{candidate}: HTTP {response.status_code}")
    raise DiscoveryError(f"no UCWA server found for {domain}: " + "; ".join(tried))
