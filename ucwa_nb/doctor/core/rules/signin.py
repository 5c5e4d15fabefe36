"""Sign-in: the 401 challenge, the token endpoint, what stands between the client and UCWA.

What users of real servers met (``../shared/real-server-facts.md``): a 401 that does not come
from UCWA, a grant the server does not offer, a token refused with an ``X-Ms-diagnostics``
number, an IIS page where JSON was expected, a browser's origin not on the allow list, and a
server whose certificate the client does not trust.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ucwa_nb.doctor.core.finding import Finding, Rule
from ucwa_nb.doctor.core.record import Exchange, Record

__all__ = ["RULES"]

_AUTH_PAGE = "AuthenticationInUCWA"


def _challenges(e: Exchange) -> list[str]:
    return e.response_headers_named("www-authenticate")


def _offered_grants(record: Record, before: Exchange) -> str | None:
    """The grant types the last MsRtcOAuth challenge before ``before`` offered."""
    for e in reversed(record.before(before)):
        for value in _challenges(e):
            found = re.search(r'grant_type="?([^"]+)"?', value, re.IGNORECASE)
            if "msrtcoauth" in value.lower() and found:
                return found.group(1)
    return None


def _no_challenge(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.status != 401 or e.is_token_request:
            continue
        challenges = _challenges(e)
        if any("msrtcoauth" in c.lower() for c in challenges):
            continue
        schemes = sorted({c.split(None, 1)[0] for c in challenges if c.strip()})
        offered = ("it offered only " + ", ".join(schemes)) if schemes else \
            "it carried no WWW-Authenticate header at all"
        yield rule.finding(
            [e.seq], f"#{e.seq} {e.what}: {offered}",
            "The 401 did not come from UCWA: a reverse proxy, ADFS or IIS in front of the "
            "server answered (or the URL is not UCWA's user resource), so there is no token "
            "endpoint to sign in to.",
            "Start from autodiscovery and follow the user link it gives; if that still "
            "answers without MsRtcOAuth, ask the administrator to publish the UCWA and "
            "WebTicket paths through the reverse proxy unchanged (no pre-authentication).")


def _unsupported_grant(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.oauth_error != "unsupported_grant_type":
            continue
        offered = _offered_grants(record, e)
        grant = _grant(e)
        evidence = f"#{e.seq} {e.what}: grant_type {grant or '?'} refused"
        if offered:
            evidence += f"; the challenge offered {offered}"
        yield rule.finding(
            [e.seq], evidence,
            f"The server does not offer the {grant or 'requested'} grant: the password grant "
            "is off where only Windows (integrated) sign-in or ADFS passive sign-in is "
            "allowed.",
            "Use one of the grant types the MsRtcOAuth challenge lists; to allow another, "
            "an administrator changes the web service configuration "
            "(Get-CsWebServiceConfiguration shows UseWindowsAuth, UseWsFedPassiveAuth, "
            "...; Set-CsWebServiceConfiguration changes them).")


def _grant(e: Exchange) -> str | None:
    found = re.search(r"(?:^|&)grant_type=([^&]*)", e.request_body or "")
    if not found:
        return None
    from urllib.parse import unquote_plus

    return unquote_plus(found.group(1))


def _invalid_grant(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.oauth_error != "invalid_grant" or e.status == 429:
            continue
        grant = _grant(e) or "password"
        diagnostics = e.response_header("x-ms-diagnostics")
        evidence = f"#{e.seq} {e.what}: invalid_grant for grant_type {grant}"
        if diagnostics:
            evidence += f"; X-Ms-diagnostics: {diagnostics}"
        if grant == "password":
            cause = ("The token endpoint refused the user name or the password (wrong "
                     "password, unknown user, or a user name in a form the server does not "
                     "take).")
            fix = ("Check the password and try the user name as user@domain, as "
                   "DOMAIN\\user and as the SIP address; after repeated failures wait, the "
                   "server may lock the account out.")
        else:
            cause = (f"The {grant} grant brought no valid security token: the Windows or "
                     "passive sign-in before it did not happen or failed.")
            fix = ("Complete the Negotiate/NTLM handshake (Windows grant) or the ADFS "
                   "sign-in (passive grant) first, on the same connection, or use the "
                   "password grant if the challenge offers it.")
        yield rule.finding([e.seq], evidence, cause, fix)


def _throttled(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.status == 429 and e.is_token_request:
            wait = e.response_header("retry-after")
            yield rule.finding(
                [e.seq], f"#{e.seq} {e.what}" + (f"; Retry-After: {wait} s" if wait else ""),
                "Too many sign-in attempts in a short time: the token endpoint stopped "
                "answering them for a while.",
                "Wait for the Retry-After delay; sign in once and reuse the token (it lasts "
                "hours) instead of signing in for every request.")


_TOKEN_DIAGNOSTICS = {
    "28055": "the OAuth token is invalid or has expired",
    "28020": "the request carried no valid security token",
}


def _token_refused(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.status != 403 or e.is_token_request:
            continue
        diagnostics = e.response_header("x-ms-diagnostics") or ""
        number = diagnostics.split(";", 1)[0].strip()
        if number not in _TOKEN_DIAGNOSTICS:
            continue
        yield rule.finding(
            [e.seq], f"#{e.seq} {e.what}; X-Ms-diagnostics: {diagnostics}",
            f"The server refused the token: {_TOKEN_DIAGNOSTICS[number]} (expired, revoked, "
            "or issued for another pool than the one that hosts the user).",
            "Sign in again from autodiscovery; if the user resource answers with a redirect "
            "link, follow it and get a token from the token endpoint of that pool.")


def _token_expired(record: Record, rule: Rule) -> Iterator[Finding]:
    signed_in = False
    for e in record.http:
        if e.is_token_request and e.status == 200:
            signed_in = True
        if (e.status == 401 and signed_in and e.has_bearer and not e.is_token_request
                and any("msrtcoauth" in c.lower() for c in _challenges(e))):
            yield rule.finding(
                [e.seq], f"#{e.seq} {e.what}: a Bearer token was sent and challenged",
                "The token sent is no longer accepted: it expired (tokens last hours) or "
                "the server revoked it (a newer sign-in of the same user, a restart).",
                "Get a new token from the token endpoint the challenge names and send the "
                "request again; an application created with the old token goes on.")


_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _html_body(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.status is None or e.status == 401 or e.status in (301, 302, 303, 307, 308):
            continue  # a 401 is the challenge's business; a redirect is no answer
        if "xframe" in e.path or (e.rel or "").lower() == "xframe" or e.path.endswith(".html"):
            continue  # the XFrame page is HTML by design
        body = (e.response_body or "").lstrip()[:200].lower()
        if e.content_type not in _HTML_TYPES and not body.startswith(("<!doctype html",
                                                                       "<html")):
            continue
        title = re.search(r"<title>([^<]{0,120})</title>", e.response_body or "",
                          re.IGNORECASE)
        evidence = f"#{e.seq} {e.what}: an HTML page" + (
            f" titled {title.group(1).strip()!r}" if title else "")
        yield rule.finding(
            [e.seq], evidence,
            "An HTML page came back where UCWA answers in JSON or XML: an IIS error or "
            "login page, a proxy's sign-in form, or a URL that is not UCWA's.",
            "Read the page's title for what answered; send Accept: application/json, use "
            "only URLs from links, and make sure the request carried the Bearer token.")


def _cross_domain(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.status != 403:
            continue
        text = " ".join([e.response_body or "", e.response_header("x-ms-diagnostics") or "",
                         e.message or ""]).lower()
        if "cross domain" not in text and "cross-domain" not in text:
            continue
        # The cross-domain frame names the page's origin in X-Ms-Origin (Cross_domainIFRAME).
        origin = (e.request_header("x-ms-origin") or e.request_header("origin")
                  or e.request_header("referer") or "this origin")
        yield rule.finding(
            [e.seq], f"#{e.seq} {e.what}: cross domain request refused (from {origin})",
            "The server does not allow cross-domain requests from the web page's origin: "
            "it is not on the web service's cross-domain authorization list.",
            "An administrator adds the origin, e.g. Set-CsWebServiceConfiguration -Identity "
            "Global -CrossDomainAuthorizationList @{Add=(New-CsWebOrigin -Url "
            "'https://app.contoso.com')}; the page then talks through the XFrame.")


_TLS = re.compile(r"ssl|tls|certificate|cert_|handshake", re.IGNORECASE)


def _tls(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.status is None and e.error and _TLS.search(e.error) \
                and "untrustedhost" not in e.error.lower():
            yield rule.finding(
                [e.seq], f"#{e.seq} {e.method} {e.url}: {e.error[:240]}",
                "The TLS handshake failed: the server's certificate is not trusted here "
                "(an internal CA, a self-signed or expired certificate, a name that does not "
                "match the host).",
                "Give the client the organisation's CA bundle (connect(..., "
                "verify='ca.pem')) rather than turning verification off; check the "
                "certificate's names cover the host in the URL.")


def _untrusted_host(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.status is None and e.error and "untrustedhost" in e.error.lower():
            yield rule.finding(
                [e.seq], f"#{e.seq} {e.method} {e.url}: {e.error[:240]}",
                "The client refused to send the password or the token to this host: it is "
                "not where sign-in started (another domain, or HTTP after HTTPS), as a "
                "spoofed redirect or link would be.",
                "Check the redirect or link that led there; if the host is genuinely the "
                "user's pool, connect to it directly.")


RULES: tuple[Rule, ...] = (
    Rule("signin.no-ucwa-challenge", "401 without an MsRtcOAuth challenge", _AUTH_PAGE,
         "simulator: inject_fault('user', 'ProxyChallenge') (a proxy's Negotiate/NTLM "
         "401), then connect(); HAR fixture (Fiddler)", _no_challenge),
    Rule("signin.unsupported-grant", "Grant type not offered", _AUTH_PAGE,
         "simulator: a token request with grant_type urn:microsoft.rtc:passive",
         _unsupported_grant),
    Rule("signin.invalid-grant", "Sign-in refused (invalid_grant)", _AUTH_PAGE,
         "simulator: connect() with a wrong password", _invalid_grant),
    Rule("signin.throttled", "Too many sign-in attempts", _AUTH_PAGE,
         "simulator: [server] signin_burst_per_account = 1, then two sign-ins", _throttled),
    Rule("signin.token-refused", "Token refused (X-Ms-diagnostics 28055/28020)", _AUTH_PAGE,
         "simulator: inject_fault('user', 'TokenRejected') (403, X-Ms-diagnostics 28055), "
         "then connect(); HAR fixture (Fiddler)", _token_refused),
    Rule("signin.token-expired", "Token no longer accepted", _AUTH_PAGE,
         "simulator: [server] max_tokens_per_user = 1, then a second sign-in revokes the "
         "first token", _token_expired),
    Rule("signin.html-body", "An HTML page instead of JSON or XML", "PayloadFormat",
         "simulator: inject_fault('applications', 'LoginPage') (an IIS sign-in page), then "
         "connect(); HAR fixture (Fiddler)", _html_body),
    Rule("signin.cross-domain", "Origin not on the cross-domain allow list",
         "Cross_domainIFRAME",
         "simulator: [server] allowed_origins without the page's origin, and a request "
         "with X-Ms-Origin (as the XFrame sends it); HAR fixture (a browser's DevTools)",
         _cross_domain),
    Rule("signin.tls", "TLS handshake failed", "RootURL",
         "simulator: connect() to https:// on its plain-HTTP port (the handshake fails)",
         _tls),
    Rule("signin.untrusted-host", "Credential kept from another host", _AUTH_PAGE,
         "client: a challenge or link naming another host (tests/client/test_hostile.py); "
         "the doctor's test uses the row the client writes", _untrusted_host),
)
