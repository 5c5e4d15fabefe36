"""Redaction rules: what is hidden, what stays readable."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ucwa_nb.log.redaction import REDACTED, SECRET_KEYS, TRIGGER_WORDS, Redactor, redact

TOKEN = "cwt=AAEBHAEFAAAAAAAFFQAAAO/+token+/Zq9Vbuhc="
PASSWORD = "s3cr&t p@ss/word"


@pytest.fixture
def redactor() -> Redactor:
    return Redactor([TOKEN, PASSWORD])


def test_authorization_keeps_the_scheme() -> None:
    r = Redactor()
    assert r.header("Authorization", f"Bearer {TOKEN}") == f"Bearer {REDACTED}"
    assert r.header("authorization", "Basic YWxpY2U6cHc=") == f"Basic {REDACTED}"
    assert r.header("Proxy-Authorization", "Negotiate abc") == f"Negotiate {REDACTED}"
    assert r.header("Authorization", TOKEN) == REDACTED  # no scheme: nothing kept


@pytest.mark.parametrize(
    "name", ["Cookie", "set-cookie", "X-Ms-Token", "X-Api-Key", "Client-Secret", "X-Password"]
)
def test_credential_headers_lose_their_whole_value(name: str) -> None:
    assert Redactor().header(name, "session=abc; Path=/; HttpOnly") == REDACTED


def test_challenges_and_ordinary_headers_stay_readable() -> None:
    challenge = (
        'Bearer trusted_issuers="00000002-0000-0ff1-ce00-000000000000@contoso.com", '
        'client_id="00000004-0000-0ff1-ce00-000000000000"'
    )
    ms_rtc = (
        'MsRtcOAuth href="https://lyncweb.contoso.com/WebTicket/oauthtoken",'
        'grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"'
    )
    r = Redactor()
    assert r.header("WWW-Authenticate", challenge) == challenge
    assert r.header("WWW-Authenticate", ms_rtc) == ms_rtc
    assert r.header("Content-Type", "application/json") == "application/json"
    assert r.header("Location", "/ucwa/oauth/v1/applications/102") == (
        "/ucwa/oauth/v1/applications/102"
    )


def test_headers_keep_order_and_repeats() -> None:
    headers = httpx.Headers(
        [
            ("WWW-Authenticate", 'Bearer realm="x"'),
            ("WWW-Authenticate", "MsRtcOAuth href=h"),
            ("Authorization", f"Bearer {TOKEN}"),
        ]
    )
    assert Redactor().headers(headers) == (
        ("WWW-Authenticate", 'Bearer realm="x"'),
        ("WWW-Authenticate", "MsRtcOAuth href=h"),
        ("Authorization", f"Bearer {REDACTED}"),
    )  # repeats kept, names as sent (dict(httpx.Headers) would merge and lowercase them)
    assert Redactor().headers({"A": "1"}) == (("A", "1"),)
    assert Redactor().headers([("A", "1"), ("A", "2")]) == (("A", "1"), ("A", "2"))
    assert Redactor().headers(None) == ()


def test_token_response_body() -> None:
    body = (
        '{"access_token":"cwt=AAEB...buHc","expires_in":28289,'
        '"ms_rtc_identityscope":"local","token_type":"Bearer","refresh_token": "r1"}'
    )
    out = Redactor().text(body)
    assert json.loads(out) == {
        "access_token": REDACTED,
        "expires_in": 28289,
        "ms_rtc_identityscope": "local",
        "token_type": "Bearer",
        "refresh_token": REDACTED,
    }


def test_form_token_request_and_query_strings() -> None:
    form = urlencode({"grant_type": "password", "username": "alice", "password": "hunter22"})
    assert Redactor().text(form) == f"grant_type=password&username=alice&password={REDACTED}"
    url = "https://x/ucwa/events?ack=2&access_token=abc.def&timeout=180"
    assert (
        Redactor().text(url) == f"https://x/ucwa/events?ack=2&access_token={REDACTED}&timeout=180"
    )
    renew = "grant_type=urn:microsoft.rtc:anonmeeting&ms_rtc_renew=old&password=key"
    assert "old" not in Redactor().text(renew)
    assert "key" not in Redactor().text(renew)


def test_xml_password_property() -> None:
    xml = '<input><property name="password">hunter22</property></input>'
    assert Redactor().text(xml) == f'<input><property name="password">{REDACTED}</property></input>'


def test_unregistered_ucwa_tokens_and_bearer_credentials_in_free_text() -> None:
    r = Redactor()
    assert r.text(f"token {TOKEN} expired") == f"token {REDACTED} expired"
    assert r.text("x=cwt%3DAAEB%2Bzz&y=1") == f"x={REDACTED}&y=1"
    message = "401 for GET /ucwa (Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig)"
    assert r.text(message) == f"401 for GET /ucwa (Authorization: Bearer {REDACTED})"
    assert r.text('{"token_type":"Bearer"}') == '{"token_type":"Bearer"}'


def test_registered_secrets_in_every_spelling(redactor: Redactor) -> None:
    spellings = [
        TOKEN,
        json.dumps(TOKEN)[1:-1].replace("/", "\\/"),  # ASP.NET JSON
        urlencode({"t": TOKEN})[2:],  # form / query
        "s3cr&amp;t p@ss/word",  # XML
        urlencode({"p": PASSWORD})[2:],
        PASSWORD,
    ]
    for spelled in spellings:
        out = redactor.text(f"before {spelled} after")
        assert out == f"before {REDACTED} after", spelled


def test_secrets_can_be_added_later_and_empty_ones_are_ignored() -> None:
    r = Redactor()
    r.add_secret("")
    r.add_secret(None)
    assert r.text("abc") == "abc"
    r.add_secret("ucwa-demo")
    assert r.text("password was ucwa-demo") == f"password was {REDACTED}"


def test_longest_secret_wins() -> None:
    r = Redactor(["abcd", "abcdefgh"])
    assert r.text("xabcdefghx") == f"x{REDACTED}x"


def test_bodies_are_decoded_and_empty_ones_become_none(redactor: Redactor) -> None:
    assert redactor.body(b"") is None
    assert redactor.body(None) is None
    assert redactor.body(TOKEN.encode()) == REDACTED
    assert redactor.body(b"caf\xc3\xa9 \xff") == "café \ufffd"


def test_redaction_is_idempotent(redactor: Redactor) -> None:
    text = f'Authorization: Bearer {TOKEN} {{"password":"{PASSWORD}"}} password={PASSWORD}'
    once = redactor.text(text)
    assert redactor.text(once) == once
    assert TOKEN not in once
    assert PASSWORD not in once


def test_redact_helper_for_exception_messages() -> None:
    message = f"token request failed: password={PASSWORD!s} for {TOKEN}"
    out = redact(message, [PASSWORD])
    assert PASSWORD not in out
    assert TOKEN not in out
    assert out.startswith("token request failed: password=")


_secret = st.text(min_size=4, max_size=40).filter(lambda s: "[" not in s and "]" not in s)


@given(secret=_secret, before=st.text(max_size=30), after=st.text(max_size=30))
def test_a_registered_secret_never_survives(secret: str, before: str, after: str) -> None:
    # A bracket-free secret cannot be rebuilt from the marker and its neighbours, so any
    # occurrence left in the output would be a real leak.
    assume(secret not in REDACTED)
    r = Redactor([secret])
    for text in (
        before + secret + after,
        json.dumps({"value": before + secret + after}),
        json.dumps({"value": secret}, ensure_ascii=False).replace("/", "\\/"),
        urlencode({"q": secret, "r": before}),
    ):
        assert secret not in r.text(text)


def test_a_secret_added_later_reaches_header_values_seen_before() -> None:
    redactor = Redactor()
    header = ("X-Ms-Correlation", "abc s3cret-value def")
    assert redactor.header(*header) == "abc s3cret-value def"  # now cached
    redactor.add_secret("s3cret-value")
    assert redactor.header(*header) == f"abc {REDACTED} def"


def test_every_secret_key_passes_the_cheap_pre_check() -> None:
    """The pre-check skips the pattern unless a trigger word is present: a key added to
    SECRET_KEYS without a trigger word would go unredacted."""
    samples = [f'{{"{key}":"s3cret"}}' for key in SECRET_KEYS]
    samples += ["Authorization: Bearer s3cret", "token=cwt=s3cret"]
    for sample in samples:
        assert any(word in sample.lower() for word in TRIGGER_WORDS), sample
        assert "s3cret" not in redact(sample), sample


NTLM_NEGOTIATE = "TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="
SPNEGO = "oYGQMIGNoAMKAQOhDAYKKwYBBAGCNwICCqJ4BHZOVExNU1NQAAIAAAAE"


def test_windows_handshake_tokens_keep_only_their_scheme() -> None:
    r = Redactor()
    assert r.header("Authorization", f"NTLM {NTLM_NEGOTIATE}") == f"NTLM {REDACTED}"
    assert r.header("WWW-Authenticate", f"Negotiate {SPNEGO}") == f"Negotiate {REDACTED}"
    # a bare challenge and prose about the handshake stay readable
    assert r.header("WWW-Authenticate", "Negotiate") == "Negotiate"
    assert r.text("the Negotiate handshake failed") == "the Negotiate handshake failed"
    # an NTLM message anywhere, e.g. quoted by a server in an error body
    assert r.text(f'{{"message": "bad token {NTLM_NEGOTIATE}"}}') == \
        f'{{"message": "bad token {REDACTED}"}}'
