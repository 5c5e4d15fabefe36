"""Where the credentials may go: the password to the server's own domain, the token to the
application's origin, neither from HTTPS down to HTTP.

The UCWA docs define trust for autodiscovery by domain: an attempt fails on an "HTTP 302
redirect to a domain different from the domain of the autodiscovery service", and a
``redirect`` link is followed only after a security check "making sure that the client is not
spoofed" (Skype/UCWA/RootURL.md, steps 3 and 6). The same rule guards the password: the user
link, the token endpoint of the 401 challenge and the user's ``redirect`` must all be in that
domain. The token, once issued, goes only to the origins sign-in found (the user resource,
the applications resource) and, after the application exists, to the application's.

The domain is the one given to ``connect("contoso.com")``; with a root URL it is the URL's
host without ``lyncdiscover.``/``lyncdiscoverinternal.`` (the documented walkthrough goes from
``lyncdiscover.contoso.com`` to ``lyncweb.contoso.com``). An IP address or a single-label host
(``localhost``) is no domain: then only that exact origin is trusted.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Generator
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from ucwa_nb.client.errors import UntrustedHostError

__all__ = ["BearerToken", "Trust", "bearer_of", "export_token", "home_domain", "origin_of"]

Origin = tuple[str, str, int]
_DISCOVERY_PREFIXES = ("lyncdiscoverinternal.", "lyncdiscover.")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str | httpx.URL) -> Origin:
    """(scheme, host, port) with the default port filled in."""
    # A request's URL is parsed already: parsing it again costs ~40 us on every request.
    parts = url if isinstance(url, httpx.URL) else httpx.URL(url)
    scheme = parts.scheme.lower()
    return scheme, parts.host.lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


def _is_domain(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return "." in host
    return False


def home_domain(url_or_domain: str) -> str:
    """The trusted domain of a ``connect`` target: a domain as given, a root URL's host
    without its autodiscover prefix."""
    if "://" not in url_or_domain:
        return url_or_domain.strip().lower().rstrip(".")
    host = (urlsplit(url_or_domain).hostname or "").lower()
    for prefix in _DISCOVERY_PREFIXES:
        if host.startswith(prefix) and _is_domain(host.removeprefix(prefix)):
            return host.removeprefix(prefix)
    return host


class Trust:
    """The trust rule of one session."""

    def __init__(self, domain: str, root_url: str) -> None:
        self.domain = domain
        self.root = origin_of(root_url)
        # Over HTTPS once: never again over HTTP with a credential.
        self.secure = self.root[0] == "https"
        self.token_origins: set[Origin] = set()

    def _in_domain(self, origin: Origin) -> bool:
        host = origin[1]
        if not _is_domain(self.domain):  # an IP or localhost: that exact origin only
            return origin == self.root
        return host == self.domain or host.endswith("." + self.domain)

    def _refuse_downgrade(self, url: str | httpx.URL, what: str,
                          origin: Origin | None = None) -> None:
        origin = origin or origin_of(url)
        if self.secure and origin[0] != "https":
            raise UntrustedHostError(origin[1], what, "the server was reached over HTTPS and "
                                     "a credential never goes over plain HTTP", str(url))

    def check_password(self, url: str | httpx.URL, what: str = "password") -> None:
        """Raise ``UntrustedHostError`` unless ``url`` may receive the password."""
        self._refuse_downgrade(url, what)
        origin = origin_of(url)
        if origin[0] not in _DEFAULT_PORTS:
            raise UntrustedHostError(origin[1], what, f"{origin[0]!r} is not HTTP(S)", str(url))
        if not self._in_domain(origin):
            where = self.domain if _is_domain(self.domain) else \
                f"{self.root[0]}://{self.root[1]}:{self.root[2]}"
            raise UntrustedHostError(origin[1], what, f"it is outside {where}, where sign-in "
                                     "started", str(url))

    def allow_token(self, url: str | httpx.URL) -> None:
        """Let the token go to ``url``'s origin (a sign-in step), if the password could."""
        self.check_password(url, "token")
        self.token_origins.add(origin_of(url))

    def only_token(self, *urls: str | httpx.URL) -> None:
        """From now on the token goes to these origins only (the application's)."""
        for url in urls:
            self.check_password(url, "token")
        self.token_origins = {origin_of(url) for url in urls}

    def check_token(self, url: str | httpx.URL) -> None:
        origin = origin_of(url)
        self._refuse_downgrade(url, "token", origin)
        if origin not in self.token_origins:
            raise UntrustedHostError(origin[1], "token", "it is not the application's origin "
                                     "(" + ", ".join(f"{s}://{h}:{p}" for s, h, p in
                                                     sorted(self.token_origins)) + ")",
                                     str(url))


class BearerToken(httpx.Auth):
    """The client's auth: ``Authorization: Bearer`` on requests to the trusted origins; a
    request to any other origin is refused (``UntrustedHostError``), nothing sent. Before
    sign-in (no token) requests go out as they are."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.trust: Trust | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response,
                                                             None]:
        if self.token is not None:
            if self.trust is not None:
                self.trust.check_token(request.url)
            request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def bearer_of(client: httpx.Client) -> BearerToken:
    """The client's ``BearerToken`` auth, installed on first use (it replaces any other auth:
    UCWA's is the OAuth token)."""
    auth = client.auth
    if not isinstance(auth, BearerToken):
        auth = BearerToken()
        client.auth = auth
    return auth


class _HasClient(Protocol):
    @property
    def http_client(self) -> httpx.Client: ...


def export_token(session: _HasClient, name: str = "UCWA_TOKEN") -> str:
    """Put the session's token into this process's environment as ``name``, where the
    forms' snippets read it: the Python snippet in a notebook cell, and the curl snippet run
    as ``!curl ...`` (a shell the kernel starts inherits its environment). Returns where it
    went, never the token; nothing is printed or logged. The token is yours as much as the
    password: it opens this user's applications until it expires (``expires_in``)."""
    token = bearer_of(session.http_client).token
    if not token:
        raise RuntimeError("no token to export: the session is not signed in")
    os.environ[name] = token
    return f"${name} is set in this kernel's environment (for the snippets; not printed)"
