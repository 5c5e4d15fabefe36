"""The password grant as an httpx.Auth flow, against made-up answers (no simulator): what it
does with a 401 challenge, and how it says what went wrong."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from ucwa_nb import DiscoveryError
from ucwa_nb.client.auth import TokenGrant
from ucwa_nb.client.trust import Trust

USER = "https://fe1.contoso.com/ucwa/oauth/v1/applications"
TOKEN_URL = "https://fe1.contoso.com/WebTicket/oauthtoken"
CHALLENGE = f'MsRtcOAuth href="{TOKEN_URL}",grant_type="urn:microsoft.rtc:windows,password"'

Handler = Callable[[httpx.Request], httpx.Response]


Sent = tuple[str, str, str | None, bytes]  # method, URL, Authorization, body, as sent


def _get_user(handler: Handler) -> tuple[httpx.Response, list[str], list[Sent]]:
    tokens: list[str] = []
    seen: list[Sent] = []

    def record(request: httpx.Request) -> httpx.Response:
        # The flow sends the same request object twice: note it as it is each time.
        seen.append((request.method, str(request.url), request.headers.get("Authorization"),
                     request.read()))
        return handler(request)

    with httpx.Client(transport=httpx.MockTransport(record)) as client:
        response = client.get(USER, auth=TokenGrant("alice", "s3cret", tokens.append,
                                                     Trust("contoso.com", USER), str))
    return response, tokens, seen


def _server(token_answer: httpx.Response) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url == TOKEN_URL:
            return token_answer
        if request.headers.get("Authorization") == "Bearer tok-1":
            return httpx.Response(200, json={"_links": {}})
        return httpx.Response(401, headers={"WWW-Authenticate": CHALLENGE})

    return answer


def test_challenge_grant_and_retry_with_the_token() -> None:
    response, tokens, seen = _get_user(_server(httpx.Response(
        200, json={"access_token": "tok-1", "token_type": "Bearer"})))
    assert response.status_code == 200
    assert tokens == ["tok-1"]
    assert seen == [
        ("GET", USER, None, b""),
        ("POST", TOKEN_URL, None, b"grant_type=password&username=alice&password=s3cret"),
        ("GET", USER, "Bearer tok-1", b"")]


@pytest.mark.parametrize(("handler", "message"), [
    (lambda r: httpx.Response(200), "answered 200, not the expected 401 challenge"),
    (lambda r: httpx.Response(401), "no MsRtcOAuth challenge"),
    (lambda r: httpx.Response(401, headers={
        "WWW-Authenticate": f'MsRtcOAuth href="{TOKEN_URL}",grant_type="urn:x"'}),
     "does not offer the password grant (it offers: urn:x)"),
    (_server(httpx.Response(400, json={"error": "invalid_grant"})),
     "sign-in refused: 400 invalid_grant"),
    (_server(httpx.Response(200, json={"token_type": "Bearer"})), "no access_token"),
])
def test_what_went_wrong_is_said(handler: Handler, message: str) -> None:
    with pytest.raises(DiscoveryError) as info:
        _get_user(handler)
    assert message in str(info.value)
    assert "s3cret" not in str(info.value)
