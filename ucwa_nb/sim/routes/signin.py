"""Discovery and sign-in routes: the autodiscover root (also at the discovery host's ``/``),
the user resource behind the 401 challenge, the XFrame page (also at ``/xframe``) and the
OAuth token endpoint.

The challenge itself is answered by ``app.py``'s exception handler, whenever
``common.token_of`` finds no valid bearer token. The token endpoint takes the password grant
(unless the scenario turns it off) and the Windows grant, after the HTTP Negotiate/NTLM
handshake of ``windows_signin.py``.
"""

from __future__ import annotations

import base64
import math
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ucwa_nb.sim import render, xframe
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.forwarded import peer_of
from ucwa_nb.sim.http import COMMON_HEADERS, challenge_grants, read_body, ucwa_response
from ucwa_nb.sim.routes.common import route, token_of, world_of
from ucwa_nb.sim.routes.windows_signin import (
    continues_handshake,
    handshake,
    starts_handshake,
    windows_account,
    windows_challenge,
)

__all__ = ["ROUTES"]


def _link_base(request: Request) -> str:
    """What the root's and the user's hrefs start with: nothing (relative, root_ref.md's
    sample), or with ``[server] absolute_links`` this server's scheme and host, as in
    CreateAnApplication.md's trace (``https://lyncweb.contoso.com/Autodiscover/...``)."""
    if not world_of(request).settings.absolute_links:
        return ""
    return f"{request.url.scheme}://{request.url.netloc}"


async def root(request: Request) -> Response:
    # Also the discovery host's "/" (CreateAnApplication.md step 1): the same resource, whose
    # self link names the root's own path, as in that page's trace.
    return ucwa_response(request, render.root(_link_base(request)))


async def user(request: Request) -> Response:
    token = token_of(request)
    # An injected fault on the user resource: what a front end answers a signed-in GET.
    world_of(request).check_fault("user", token.user)
    return ucwa_response(request, render.user(_link_base(request)))


async def xframe_page(request: Request) -> Response:
    return Response(xframe.page(), headers=dict(COMMON_HEADERS),
                    media_type="text/html; charset=utf-8")


async def oauth_token(request: Request) -> Response:
    world = world_of(request)
    settings = world.settings
    fqdn = settings.server_fqdn

    def oauth_error(error: str, diagnostic: str, status: int = 400,
                    retry_after: float | None = None) -> Response:
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache",
                   "X-Ms-diagnostics": f'{diagnostic};source="{fqdn}"'}
        if retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(min(retry_after, 86400.0))))
        return JSONResponse({"error": error}, status, headers=headers)

    def throttled(wait: float) -> Response:
        # [infer] The docs name no throttling answer for the token endpoint: 429 (the
        # TooManyRequests of UCWA's status table) with Retry-After, and the OAuth error
        # and diagnostic a refused grant gets, so a client that reads only `error` still
        # sees a refusal.
        return oauth_error("invalid_grant",
                           '28020;reason="Too many sign-in attempts; try again later."',
                           429, wait)

    address = request.client.host if request.client else ""
    # Before the body is read: a flood of failures costs the server no parsing. A Windows
    # handshake counts once, when it starts (it names no account: its address's).
    if continues_handshake(request, world):
        # Its AUTHENTICATE message: refused ones count like wrong passwords (limits.py).
        wait = world.signin.account_wait(address, windows_account(address))
    elif starts_handshake(request):
        wait = world.signin.attempt_wait(address, windows_account(address),
                                           failures=False)
    else:
        wait = world.signin.wait(address)
    if wait:
        return throttled(wait)
    # Windows authentication runs before the grant is read, as IIS's does.
    windows = handshake(request, world, oauth_error(
        "invalid_request", '28032;reason="The Authorization header is too large."'))
    if windows.answer is not None:
        return windows.answer
    try:
        # A form of a username and a password: a body larger than this is no sign-in, and
        # parsing a megabyte of form would hold the event loop for everyone.
        body = await read_body(request, min(settings.max_body_bytes,
                                            settings.max_token_body_bytes))
    except SimError as error:
        if error.status != 400:  # 413: the limit every endpoint shares, in its UCWA shape
            raise
        # A body that cannot be read (a bad Content-Length, a truncated body) is, at the
        # token endpoint, an OAuth invalid_request like every other 400 there.
        return oauth_error("invalid_request",
                           '28032;reason="The request body could not be read."')
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        return oauth_error("invalid_request",
                           '28032;reason="The request must be form-url-encoded."')
    form = dict(parse_qsl(body.decode("utf-8", "replace")))
    grant = form.get("grant_type")
    if not grant:
        # RFC 6749 5.2: a missing required parameter is invalid_request;
        # unsupported_grant_type is for a grant that was named but is not offered.
        return oauth_error("invalid_request", '28033;reason="grant_type is required."')
    if form.get("scope", "all") != "all":
        return oauth_error("invalid_scope", '28031;reason="Only the scope all is valid."')
    if grant not in challenge_grants(settings).split(","):
        # Only what the challenge offers is taken: a deployment with Windows sign-in (or
        # ADFS) only, or a recording of one, refuses the password grant.
        return oauth_error("unsupported_grant_type",
                           '28029;reason="Authentication type not allowed."')
    if grant == "password":
        if not form.get("username") or not form.get("password"):
            return oauth_error("invalid_request",
                               '28033;reason="username and password are required."')
        account = form["username"].lower().removeprefix("sip:")[:256]
        wait = world.signin.attempt_wait(address, account)
        if wait:
            return throttled(wait)
        token = world.issue_token(form["username"], form["password"])
        if token is None:
            world.signin.failed(address, account)
            return oauth_error("invalid_grant", '28020;reason="No valid security token."')
        world.signin.succeeded(address, account, peer_of(request.scope))
        return JSONResponse(
            {"access_token": token.value, "expires_in": settings.token_lifetime,
             "ms_rtc_identityscope": "local", "token_type": "Bearer"},
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
    if grant == "urn:microsoft.rtc:windows" and world.windows.schemes:
        if "username" in form or "password" in form:
            # The Windows grant carries no credentials of its own (AuthenticationInUCWA);
            # [infer] one that does is a malformed request.
            return oauth_error("invalid_request", '28032;reason="The Windows grant takes '
                               'no username or password."')
        if windows.user is None:  # not authenticated yet: the handshake starts
            return windows_challenge(world.windows.schemes)
        user = world.users.get(windows.user.username.lower())
        if user is None:
            return oauth_error("invalid_grant", '28020;reason="No valid security token."')
        token = world.token_for(user)
        world.signin.succeeded(address, windows_account(address), peer_of(request.scope))
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if windows.final is not None:  # the acceptor's last word (mutual authentication)
            headers["WWW-Authenticate"] = \
                f"{windows.final[0]} {base64.b64encode(windows.final[1]).decode()}"
        return JSONResponse(
            {"access_token": token.value, "expires_in": settings.token_lifetime,
             "ms_rtc_identityscope": "local", "token_type": "Bearer"}, headers=headers)
    if grant == "urn:microsoft.rtc:anonmeeting":
        # Offered in the challenge as real servers do, but anonymous meeting join has no
        # meeting to join here.
        return oauth_error("invalid_grant", '28020;reason="No valid security token."')
    return oauth_error("unsupported_grant_type",
                       '28029;reason="Authentication type not allowed."')


ROUTES = [
    route("root", root, "GET"),
    route("discovery", root, "GET"),
    route("user", user, "GET"),
    route("xframe", xframe_page, "GET"),
    route("discoveryXframe", xframe_page, "GET"),
    route("token", oauth_token, "POST"),
]
