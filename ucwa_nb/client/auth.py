"""Sign-in: autodiscovery, then the user resource through an OAuth grant.

The grant is an ``httpx.Auth`` flow (ucwa-protocol.md 1.3): GET the user resource without a
token, read the ``MsRtcOAuth`` challenge of the 401, get a token from its token URL (the
password grant, or Windows sign-in after a Negotiate/NTLM handshake: ``windows.py``), and send
the GET again with ``Authorization: Bearer``. Every step passes the session's logging
hooks like any other request. The password and the token go only where ``trust.Trust`` lets
them: a link, a challenge or a redirect naming another host is refused before it is sent.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

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
from ucwa_nb.client.hooks import ExchangeHooks, absolute, tag
from ucwa_nb.client.navigation import Navigator
from ucwa_nb.client.pacing import Pacing
from ucwa_nb.client.trust import Trust, bearer_of, home_domain
from ucwa_nb.client.windows import WINDOWS_GRANT, windows_token_response
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.protocol.representation import ParseError, Resource, parse

__all__ = ["Grant", "TokenGrant", "WindowsSetup", "choose_grant", "discover", "sign_in"]


Grant = Literal["auto", "password", "windows"]
PASSWORD_GRANT = "password"


def choose_grant(offered: tuple[str, ...], auth: Grant, has_password: bool) -> str:
    """The grant ``connect()`` signs in with: the password grant when the challenge offers it
    and a password is given, else Windows sign-in; ``auth`` other than "auto" forces one.
    Raises ``SignInError`` naming what the server offers and what to pass when it offers
    neither of what the user has."""
    if auth == "password":
        return PASSWORD_GRANT
    if auth == "windows":
        return WINDOWS_GRANT
    if has_password and PASSWORD_GRANT in offered:
        return PASSWORD_GRANT
    if WINDOWS_GRANT in offered:
        return WINDOWS_GRANT
    offers = ", ".join(offered) or "no grant at all"
    if PASSWORD_GRANT in offered:
        hint = "pass username= and password="
    else:
        hint = ("it takes neither the password grant nor Windows sign-in: get a token "
                "elsewhere and pass token=, or force one with auth='password' or "
                "auth='windows' to see the server's answer")
    raise SignInError(401, "unsupported_grant_type",
                      message=f"the server does not offer the password grant (it offers: "
                              f"{offers}); {hint}")


@dataclass(frozen=True)
class WindowsSetup:
    """What Windows sign-in needs besides the credentials: the session's logging hooks, the
    timeout and the TLS verification of the one-connection client it makes."""

    hooks: ExchangeHooks
    timeout: httpx.Timeout
    verify: ssl.SSLContext | bool = True


class TokenGrant(httpx.Auth):
    """The 401 challenge of the user resource answered with a token: the password grant
    (POSTed through the session's client) or Windows sign-in (``client/windows.py``, over a
    connection of its own), as ``choose_grant`` picks; ``on_token`` gets the token.
    ``grant`` says which was used."""

    requires_response_body = True

    def __init__(self, username: str | None, password: str | None,
                 on_token: Callable[[str], None], trust: Trust, redact: Redact, *,
                 auth: Grant = "auto", windows: WindowsSetup | None = None,
                 pacing: Pacing | None = None) -> None:
        self._pacing = pacing or Pacing(0.0)
        self._username = username
        self._password = password
        self._on_token = on_token
        self._trust = trust
        self._redact = redact
        self._auth = auth
        self._windows = windows
        self.grant: str | None = None

    def __repr__(self) -> str:  # the password stays out of reprs and tracebacks
        return f"<TokenGrant {self._username}>"

    def auth_flow(self, request: httpx.Request
                  ) -> Generator[httpx.Request, httpx.Response, None]:
        challenged = yield request
        if challenged.status_code != 401:
            raise DiscoveryError(f"the user resource answered {challenged.status_code}, "
                                 "not the expected 401 challenge")
        challenge = parse_challenge(challenged.headers.get_list("www-authenticate"))
        if challenge is None:
            raise DiscoveryError("the 401 carries no MsRtcOAuth challenge with a token URL")
        self.grant = choose_grant(challenge.grant_types, self._auth, bool(self._password))
        token_url = absolute(challenge.token_url, challenged)
        self._trust.check_password(token_url)  # before anything is sent, handshake included
        if self.grant == WINDOWS_GRANT:
            # sign_in() always passes the session's setup; a TokenGrant used on its own
            # (tests) logs its handshake to a log of its own.
            setup = self._windows or WindowsSetup(ExchangeHooks(ExchangeLog(), _now),
                                                  httpx.Timeout(30.0))
            while True:
                reply = windows_token_response(
                    token_url, username=self._username, password=self._password,
                    hooks=setup.hooks, timeout=setup.timeout, verify=setup.verify,
                    redact=self._redact)
                if not self._pacing.wait(reply, "signing in"):
                    break
        else:
            if not self._username or not self._password:
                raise DiscoveryError("the password grant needs username= and password=")
            while True:  # a 429 with Retry-After is waited out (pacing.py)
                reply = yield httpx.Request(
                    "POST", token_url,
                    headers={"Accept": "application/json"},
                    data={"grant_type": "password", "username": self._username,
                          "password": self._password},
                    extensions={**tag("token"),
                                "timeout": request.extensions.get("timeout", {})})
                if not self._pacing.wait(reply, "signing in"):
                    break
        token = self._token_of(reply, challenge.grant_types)
        self._on_token(token)
        self._trust.allow_token(request.url)
        request.headers["Authorization"] = f"Bearer {token.removeprefix('Bearer ').strip()}"
        yield request

    def _token_of(self, reply: httpx.Response, offered: tuple[str, ...]) -> str:
        if reply.status_code != 200:
            oauth = oauth_error(reply)
            code, description = oauth if oauth else (f"HTTP{reply.status_code}", None)
            if reply.status_code == 429 and self._pacing.refused:
                description = self._pacing.refused
            if code == "unsupported_grant_type":
                description = (f"{description + '; ' if description else ''}the server does "
                               f"not take the {self.grant} grant (its challenge offers: "
                               f"{', '.join(offered) or 'none'})" + (
                                   "; try auth='windows'" if self.grant == PASSWORD_GRANT
                                   else ""))
            raise SignInError(reply.status_code, code, message=description,
                              diagnostics=reply.headers.get("x-ms-diagnostics"),
                              method="POST", url=str(reply.request.url.copy_with(query=None)),
                              redact=self._redact)
        data = json_of(reply)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise DiscoveryError("the token endpoint answered no access_token")
        return token


def _now() -> datetime:
    return datetime.now(UTC)


def sign_in(navigator: Navigator, log: ExchangeLog, url: str, *, username: str | None,
            password: str | None, token: str | None, auth: Grant = "auto",
            verify: ssl.SSLContext | bool = True, pacing: Pacing | None = None) -> str:
    """Discovery (a root URL or a domain), the token, the user resource: the applications URL.

    The token ends up in ``bearer`` (the client's auth, which sends it only where ``trust``
    lets it) and, like the password, among the log's secrets. Without a token, the grant is
    the one ``choose_grant`` picks from the challenge (``auth`` forces one); ``verify`` is
    for the Windows handshake's own connection; ``pacing``: how long a 429 with Retry-After
    from the token endpoint is waited out (none by default).
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
    else:
        if auth not in ("auto", "password", "windows"):
            raise ValueError("auth must be 'auto', 'password' or 'windows'")
        grant = TokenGrant(username, password, use_token, trust, log.redactor.text, auth=auth,
                           windows=WindowsSetup(navigator.hooks, navigator.http_client.timeout,
                                                verify), pacing=pacing)
        # No redirects: a 307 must not carry the password elsewhere.
        user = navigator.get(user_url, "user", auth=grant, follow_redirects=False)
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
