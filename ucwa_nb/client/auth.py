"""Sign-in: autodiscovery, then the user resource through the OAuth password grant.

The grant is an ``httpx.Auth`` flow (ucwa-protocol.md 1.3): GET the user resource without a
token, read the ``MsRtcOAuth`` challenge of the 401, POST the password grant to its token URL,
and send the GET again with ``Authorization: Bearer``. Every step passes the session's logging
hooks like any other request. The password and the token go only where ``trust.Trust`` lets
them: a link, a challenge or a redirect naming another host is refused before it is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpx

from ucwa_nb.client.discovery import candidate_roots, parse_challenge, same_domain
from ucwa_nb.client.errors import (
    DiscoveryError,
    Redact,
    SignInError,
    UcwaError,
    json_of,
    oauth_error,
)
from ucwa_nb.client.hooks import absolute, tag
from ucwa_nb.client.navigation import Navigator
from ucwa_nb.client.trust import Trust, bearer_of, home_domain
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.protocol.representation import ParseError, Resource, parse

__all__ = ["PasswordGrant", "discover", "sign_in"]


class PasswordGrant(httpx.Auth):
    """The 401 challenge answered with the password grant; ``on_token`` gets the token."""

    requires_response_body = True

    def __init__(self, username: str, password: str, on_token: Callable[[str], None],
                 trust: Trust, redact: Redact) -> None:
        self._username = username
        self._password = password
        self._on_token = on_token
        self._trust = trust
        self._redact = redact

    def __repr__(self) -> str:  # the password stays out of reprs and tracebacks
        return f"<PasswordGrant {self._username}>"

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
        token_url = absolute(challenge.token_url, challenged)
        self._trust.check_password(token_url)  # before anything is sent
        reply = yield httpx.Request(
            "POST", token_url,
            headers={"Accept": "application/json"},
            data={"grant_type": "password", "username": self._username,
                  "password": self._password},
            extensions={**tag("token"), "timeout": request.extensions.get("timeout", {})})
        if reply.status_code != 200:
            oauth = oauth_error(reply)
            code, description = oauth if oauth else (f"HTTP{reply.status_code}", None)
            raise SignInError(reply.status_code, code, message=description,
                              diagnostics=reply.headers.get("x-ms-diagnostics"),
                              method="POST", url=str(reply.request.url.copy_with(query=None)),
                              redact=self._redact)
        data = json_of(reply)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise DiscoveryError("the token endpoint answered no access_token")
        self._on_token(token)
        self._trust.allow_token(request.url)
        request.headers["Authorization"] = f"Bearer {token.removeprefix('Bearer ').strip()}"
        yield request


def sign_in(navigator: Navigator, log: ExchangeLog, url: str, *, username: str | None,
            password: str | None, token: str | None) -> str:
    """Discovery (a root URL or a domain), the token, the user resource: the applications URL.

    The token ends up in ``bearer`` (the client's auth, which sends it only where ``trust``
    lets it) and, like the password, among the log's secrets.
    """
    bearer = bearer_of(navigator.http_client)
    bearer.token = None
    if token is not None or password:  # secrets first: every row and message is redacted
        log.add_secret(token)
        log.add_secret(token.removeprefix("Bearer ").strip() if token else None)
        log.add_secret(password)

    def use_token(value: str) -> None:
        bare = value.removeprefix("Bearer ").strip()
        log.add_secret(value)
        log.add_secret(bare)
        bearer.token = bare

    root_url = url if "://" in url else discover(navigator, url)
    trust = bearer.trust = Trust(home_domain(url), root_url)
    try:
        root = navigator.get(root_url, "root", authenticate=False)
    except UcwaError as exc:  # an HTML page or other non-UCWA answer: say which step
        if exc.code != "UnexpectedBody":
            raise
        raise DiscoveryError(f"{root_url} is not a UCWA autodiscover root "
                             f"({exc.message})") from None
    user_url = navigator.link(root, "user")
    if user_url is None:
        raise DiscoveryError(f"{root_url} is not a UCWA autodiscover root (no user link)")
    trust.check_password(user_url, "sign-in")
    if token is not None:
        trust.allow_token(user_url)
        use_token(token)
        user = navigator.get(user_url, "user", follow_redirects=False)
    elif username and password:
        grant = PasswordGrant(username, password, use_token, trust, log.redactor.text)
        # No redirects: a 307 must not carry the password elsewhere.
        user = navigator.get(user_url, "user", auth=grant, follow_redirects=False)
    else:
        raise DiscoveryError("sign-in needs username and password, or token")
    redirect = navigator.link(user, "redirect")
    if redirect is not None and user.link("applications") is None:
        trust.allow_token(redirect)  # another pool of the same domain (user_ref.md)
        user = navigator.get(redirect, "redirect", follow_redirects=False)
    applications_url = navigator.link(user, "applications")
    if applications_url is None:
        raise DiscoveryError("the user resource offers no applications link")
    trust.allow_token(applications_url)
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
            except (ParseError, UnicodeDecodeError):
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
