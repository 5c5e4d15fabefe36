"""The web application allow list: which web pages may talk to the simulator through its
cross-domain frame (``xframe.py``).

Cross_domainIFRAME.md, "Web application allow list": "Web applications that take a dependency
on the cross-domain iframe are required to get IT Admin approval for their domain.
Administrators will add the source domain of your web application to the company's list of
allowed domains." ConfiguringATopology.md names the list (the web service's
``CrossDomainAuthorizationList``), defines its entries as RFC 6454 origins (scheme, host and
port: ``http://contoso.com`` and ``http://contoso.com:8080`` differ) and gives the refusal:
"Service does not allow a cross domain request from this origin.", "sent by the server in
the headers of a 403 response" (users of real servers quote it as the ``reason`` of
``X-Ms-diagnostics``; ucwa-protocol.md 5.1: the sample's Transport.js reads it there).

The frame stamps every request it sends with ``X-Ms-Origin``, the origin of the page that
asked (the browser tells the frame who posted the message; the page cannot choose it). A
request that carries it is checked here, before any route: the server's own origin and the
origins of ``[server] allowed_origins`` (``ucwa-nb serve --allow-origin``) pass, any other
gets the refusal. A request without it did not come through the frame (a notebook, curl) and
is not checked, as on a real server, whose list only concerns browser applications.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.http import error_response

__all__ = ["CROSS_DOMAIN_DIAGNOSTIC", "CROSS_DOMAIN_REFUSAL", "CrossDomainGate",
           "normal_origin", "refusal"]

CROSS_DOMAIN_REFUSAL = "Service does not allow a cross domain request from this origin."
# [infer] The pages give the reason's text but not its diagnostic number; the number of the
# refusals users of real servers posted (tests/doctor/fixtures/browser-cross-domain.har).
CROSS_DOMAIN_DIAGNOSTIC = 28072
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"[a-z0-9.\-]+|\[[0-9a-f:.]+\]")


def normal_origin(text: str) -> str | None:
    """``text`` as an RFC 6454 origin (``scheme://host[:port]``, lower case, the scheme's
    default port left out), or None if it is not the origin of an http(s) page: a path,
    query, fragment or user name, another scheme, or ``null`` (a page from a file)."""
    value = text.strip()
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or "@" in parts.netloc or parts.path not in ("", "/") \
            or parts.query or parts.fragment or value.endswith(("?", "#")):
        return None
    if ":" in host:  # urlsplit drops an IPv6 literal's brackets
        host = f"[{host}]"
    if not _HOST.fullmatch(host):
        return None
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def refusal(request: Request, fqdn: str) -> SimError:
    """The 403 of a request from an origin not on the list, as real servers give it: the
    reason in ``X-Ms-diagnostics``. [infer] The body is the UCWA error of a 403 (code
    Forbidden) with the same sentence, in the format the request asked for."""
    diagnostic = f'{CROSS_DOMAIN_DIAGNOSTIC};source="{fqdn}";reason="{CROSS_DOMAIN_REFUSAL}"'
    return SimError(403, "Forbidden", None, CROSS_DOMAIN_REFUSAL,
                    headers={"X-Ms-diagnostics": diagnostic})


class CrossDomainGate:
    """ASGI middleware: refuses a request through the frame (it carries ``X-Ms-Origin``)
    from an origin that is neither the server's own nor on the allow list."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str], fqdn: str) -> None:
        self.app = app
        self.allowed = frozenset(filter(None, map(normal_origin, allowed)))
        self.fqdn = fqdn

    def allows(self, claimed: str, request: Request) -> bool:
        """Whether a page of origin ``claimed`` may send ``request`` through the frame."""
        origin = normal_origin(claimed)
        if origin is None:
            return False
        # The frame on the server's own origin, used by a page of that origin too.
        own = normal_origin(f"{request.url.scheme}://{request.url.netloc}")
        return origin == own or origin in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            claims = request.headers.getlist("x-ms-origin")
            if claims and not all(self.allows(claim, request) for claim in claims):
                response = error_response(request, refusal(request, self.fqdn))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
