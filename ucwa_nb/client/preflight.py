"""Preflight: a read-only look at a UCWA server before anything is created on it.

For an integrator's first minute with a real server: which autodiscover URL answered
(internal or external, through a redirect), what the root links to, what the user resource's
401 challenge offers (grant types, token URL, trusted issuers), what the token endpoint asks
of Windows sign-in, the TLS certificate (issuer, expiry, host name), ``X-MS-UcwaVersion``,
the ``xframe`` link, and how long each step took, each with what it means.

It creates no application and sends no password: the only requests are the anonymous GETs
of discovery, the root and the user resource (which answers the challenge), and, when the
Windows grant is offered, the grant POSTed with no credentials (which answers which handshake
the token endpoint wants). With ``username`` and ``password`` it also signs in (a token, the
user resource again), and still creates no application. Every request is logged and bounded
like a session's (``preflight.log``).
"""

from __future__ import annotations

import html
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx

from ucwa_nb.client.auth import Grant, discover, sign_in
from ucwa_nb.client.discovery import Challenge, candidate_roots, parse_challenge
from ucwa_nb.client.errors import DiscoveryError, UcwaError, UntrustedHostError
from ucwa_nb.client.hooks import ExchangeHooks, absolute
from ucwa_nb.client.navigation import Navigator
from ucwa_nb.client.preferences import Preferences
from ucwa_nb.client.tls import Verify, ssl_verify
from ucwa_nb.client.transport import session_client
from ucwa_nb.client.trust import Trust, home_domain
from ucwa_nb.client.windows import WINDOWS_GRANT, offered_schemes
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.protocol.representation import ParseError, Resource, parse

__all__ = ["Finding", "Preflight", "preflight"]

Level = Literal["ok", "warn", "fail", "info"]
_MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "info": "    "}


@dataclass(frozen=True)
class Finding:
    """One thing preflight found: the ``step``, ``what`` was looked at, its ``value``, what it
    ``means`` for you, and a ``level``: ok, warn, fail or info."""

    step: str
    what: str
    value: str
    means: str
    level: Level = "info"


@dataclass
class Preflight:
    """What ``preflight()`` found: ``findings`` in order, the autodiscover root it used, the
    challenge it read, and the log of every request it sent."""

    target: str
    findings: list[Finding] = field(default_factory=list)
    root_url: str | None = None
    challenge: Challenge | None = None
    log: ExchangeLog = field(default_factory=ExchangeLog, repr=False)

    @property
    def ok(self) -> bool:
        """No finding failed."""
        return all(f.level != "fail" for f in self.findings)

    def add(self, step: str, what: str, value: object, means: str,
            level: Level = "info") -> None:
        """Note a finding."""
        self.findings.append(Finding(step, what, str(value), means, level))

    def __str__(self) -> str:
        lines = [f"Preflight of {self.target}"]
        for f in self.findings:
            lines.append(f"[{_MARKS[f.level]}] {f.step:<13} {f.what}: {f.value}")
            if f.means:
                lines.append(f"{'':21}{f.means}")
        return "\n".join(lines)

    def to_frame(self) -> Any:
        """The findings as a pandas DataFrame (step, what, value, means, level)."""
        import pandas as pd

        return pd.DataFrame([f.__dict__ for f in self.findings],
                            columns=["step", "what", "value", "means", "level"])

    def _repr_html_(self) -> str:
        colours = {"ok": "#2e7d32", "warn": "#b26a00", "fail": "#c62828", "info": "inherit"}
        rows = "".join(
            f"<tr><td style='color:{colours[f.level]}'>{html.escape(f.level)}</td>"
            f"<td>{html.escape(f.step)}</td><td>{html.escape(f.what)}</td>"
            f"<td><code>{html.escape(f.value)}</code></td><td>{html.escape(f.means)}</td></tr>"
            for f in self.findings)
        return (f"<p><b>Preflight of {html.escape(self.target)}</b></p><table><thead><tr>"
                "<th>level</th><th>step</th><th>what</th><th>value</th><th>means</th></tr>"
                f"</thead><tbody>{rows}</tbody></table>")


def preflight(target: str, *, verify: Verify = True, timeout: float = 10.0,
              username: str | None = None, password: str | None = None,
              auth: Grant = "auto", http_client: httpx.Client | None = None) -> Preflight:
    """Look at the UCWA server of ``target`` (a domain, or an autodiscover root URL) without
    creating anything on it; with ``username`` and ``password`` also sign in (no
    application is created). ``verify`` as for ``connect()``."""
    tls = ssl_verify(verify)
    result = Preflight(target)
    hooks = ExchangeHooks(result.log, lambda: datetime.now(UTC))
    # Our own client over yours (as a Session does, client/transport.py): logged, bounded,
    # and yours left as it was; with no token to add, its auth adds nothing.
    client = session_client(http_client or httpx.Client(verify=tls, timeout=timeout),
                            owned=http_client is None, auth=httpx.Auth(),
                            event_hooks=hooks.event_hooks)
    try:
        _look(result, Navigator(client, hooks, Preferences()), tls, timeout, username,
              password, auth)
    finally:
        client.close()
    return result


def _ms(response: httpx.Response) -> str:
    return f"{response.elapsed.total_seconds() * 1000:.0f} ms"


def _look(result: Preflight, navigator: Navigator, tls: ssl.SSLContext | bool,
          timeout: float, username: str | None, password: str | None, auth: Grant) -> None:
    root_url = _discovery(result, navigator)
    if root_url is None:
        return
    result.root_url = root_url
    if root_url.startswith("http://"):
        result.add("autodiscovery", "plain HTTP", root_url,
                   "the password and the token would cross the network unencrypted", "warn")
    trust = Trust(home_domain(result.target), root_url)
    root = _root(result, navigator, root_url)
    user_url = navigator.link(root, "user") if root is not None else None
    _tls(result, root_url, tls, timeout)
    if user_url is None:
        return
    token_url = _challenge(result, navigator, user_url, trust)
    if token_url is None:
        return
    if WINDOWS_GRANT in (result.challenge.grant_types if result.challenge else ()):
        _windows_probe(result, navigator, token_url)
    if urlsplit(token_url).scheme == "https" and \
            urlsplit(token_url).netloc != urlsplit(root_url).netloc:
        _tls(result, token_url, tls, timeout)
    if username is not None and password is not None:
        _sign_in(result, navigator, root_url, username, password, auth, tls)


def _discovery(result: Preflight, navigator: Navigator) -> str | None:
    if "://" in result.target:
        result.add("autodiscovery", "root URL", result.target,
                   "given as is: no autodiscovery", "info")
        return result.target
    try:
        root_url = discover(navigator, result.target)
    except DiscoveryError as exc:
        result.add("autodiscovery", "no server found", exc,
                   "check DNS for lyncdiscoverinternal./lyncdiscover.<domain> and the "
                   "network path; each attempt is a row of preflight.log", "fail")
        return None
    rows = [r for r in result.log.rows if r.rel == "autodiscover"]
    answered = (rows[-1].url if rows else None) or root_url
    where = "internal" if "lyncdiscoverinternal." in answered else "external"
    candidates = candidate_roots(result.target)
    failed = len(rows) - 1
    result.add("autodiscovery", "answered", answered,
               f"the {where} name answered" + (
                   f" after {failed} failed attempt(s) (see preflight.log)" if failed else "")
               + ("; internal names answer inside the corporate network only"
                  if where == "external" else ""),
               "ok" if answered.startswith("https://") else "warn")
    if answered not in candidates or root_url != answered:
        result.add("autodiscovery", "redirected to", root_url,
                   "followed: it stays in the domain (the anti-spoofing check)", "info")
    return root_url


def _root(result: Preflight, navigator: Navigator, root_url: str) -> Resource | None:
    try:
        response = navigator.request("GET", root_url, rel="root", raise_errors=False,
                                     authenticate=False, follow_redirects=False)
    except httpx.HTTPError as exc:
        result.add("root", "unreachable", f"{type(exc).__name__}: {exc}",
                   "the autodiscover root did not answer", "fail")
        return None
    version = response.headers.get("x-ms-ucwaversion")
    result.add("root", "X-MS-UcwaVersion", version or "(none)",
               "the UCWA version the server speaks (Versioning)" if version else
               "no version header: not a UCWA server, or a proxy in front strips it",
               "ok" if version else "warn")
    try:
        root = parse(response.content, response.headers.get("content-type"))
    except (ParseError, UnicodeDecodeError):
        root = None
    if not isinstance(root, Resource) or response.status_code != 200:
        result.add("root", "answer", f"HTTP {response.status_code} "
                   f"{response.headers.get('content-type', '')}",
                   "not a UCWA autodiscover root", "fail")
        return None
    root.href = absolute(root.href, response) if root.href else str(response.url)
    rels = sorted(root.links)
    result.add("root", "links", ", ".join(rels) or "(none)",
               "user: where sign-in starts" if "user" in rels else
               "no user link: sign-in cannot start here", "ok" if "user" in rels else "fail")
    result.add("root", "xframe", navigator.link(root, "xframe") or "(none)",
               "browser apps can reach this server through its cross-domain frame "
               "(the administrator's allow list decides which origins)"
               if "xframe" in rels else "no cross-domain frame: browser apps cannot use it",
               "info")
    result.add("timing", "root", _ms(response), "", "info")
    return root


def _challenge(result: Preflight, navigator: Navigator, user_url: str,
               trust: Trust) -> str | None:
    try:
        response = navigator.request("GET", user_url, rel="user", raise_errors=False,
                                     authenticate=False, follow_redirects=False)
    except (httpx.HTTPError, UntrustedHostError) as exc:
        result.add("challenge", "user resource", f"{type(exc).__name__}: {exc}",
                   "the user resource did not answer", "fail")
        return None
    result.add("timing", "user (401)", _ms(response), "", "info")
    challenge = parse_challenge(response.headers.get_list("www-authenticate"))
    if response.status_code != 401 or challenge is None:
        result.add("challenge", "user resource", f"HTTP {response.status_code}",
                   "no MsRtcOAuth challenge: a reverse proxy or ADFS in front answers for "
                   "the server, and UCWA's sign-in cannot start", "fail")
        return None
    result.challenge = challenge
    grants = challenge.grant_types
    result.add("challenge", "grant types", ", ".join(grants) or "(none)",
               _grants_mean(grants), "ok" if {"password", WINDOWS_GRANT} & set(grants)
               else "fail")
    token_url = absolute(challenge.token_url, response)
    level: Level = "ok"
    try:
        trust.check_password(token_url)
        means = "in the sign-in domain: connect() sends credentials there"
    except UntrustedHostError as exc:
        means, level = f"connect() will refuse to send credentials there: {exc.message}", "fail"
    result.add("challenge", "token URL", token_url, means, level)
    if challenge.trusted_issuers:
        result.add("challenge", "trusted issuers", challenge.trusted_issuers,
                   "the OAuth realm of the server (the part after @ is its domain)", "info")
    return token_url if level == "ok" else None


def _grants_mean(grants: tuple[str, ...]) -> str:
    password, windows = "password" in grants, WINDOWS_GRANT in grants
    if password and windows:
        return ("the password grant and Windows sign-in: connect(..., username=, password=) "
                "uses the password grant; auth='windows' signs in the Windows way")
    if windows:
        return ("this server offers only Windows sign-in: connect(..., username="
                "'DOMAIN\\\\user', password=...) signs in with NTLM from any OS")
    if password:
        return "the password grant only: connect(..., username=, password=)"
    if "urn:microsoft.rtc:passive" in grants:
        return "ADFS (passive) sign-in only: get a token elsewhere and pass token="
    return "neither the password grant nor Windows sign-in: pass token="


def _windows_probe(result: Preflight, navigator: Navigator, token_url: str) -> None:
    """The Windows grant with no credentials: the token endpoint answers which handshake it
    wants (nothing secret is sent)."""
    try:
        response = navigator.request("POST", token_url, rel="token", raise_errors=False,
                                     authenticate=False, follow_redirects=False,
                                     data={"grant_type": WINDOWS_GRANT})
    except httpx.HTTPError as exc:
        result.add("windows", "token endpoint", f"{type(exc).__name__}: {exc}",
                   "the token endpoint did not answer", "fail")
        return
    schemes = offered_schemes(response)
    if response.status_code == 401 and schemes:
        result.add("windows", "handshake", ", ".join(schemes),
                   ("Negotiate: Kerberos where a ticket exists, else NTLM; " if "Negotiate"
                    in schemes else "") + "NTLM works from Linux with username='DOMAIN\\\\user' "
                   "and password=", "ok")
    else:
        result.add("windows", "handshake", f"HTTP {response.status_code}, no Negotiate or NTLM",
                   "the Windows grant is listed but the token endpoint asks for no "
                   "handshake (Windows authentication off in IIS?)", "warn")


def _tls(result: Preflight, url: str, tls: ssl.SSLContext | bool, timeout: float) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return
    host, port = parts.hostname, parts.port or 443
    context = tls if isinstance(tls, ssl.SSLContext) else ssl.create_default_context()
    if tls is False:
        result.add("tls", host, "verification off (verify=False)",
                   "anyone on the network path can read the password and the token", "warn")
        context = ssl.create_default_context()  # still say what a verified check finds
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, \
                context.wrap_socket(raw, server_hostname=host) as tls_socket:
            cert: dict[str, Any] = dict(tls_socket.getpeercert() or {})
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or str(exc)
        means = ("the certificate names another host" if "mismatch" in reason.lower() else
                 "issued by a CA this machine does not trust (your internal CA?): pass "
                 "verify='corp-ca.pem'" if "issuer" in reason.lower() else
                 "the certificate is not valid")
        result.add("tls", host, reason, means, "fail")
        return
    except (OSError, ssl.SSLError) as exc:
        result.add("tls", host, f"{type(exc).__name__}: {exc}", "no TLS handshake", "fail")
        return
    issuer = dict(item for rdn in cert.get("issuer", ()) for item in rdn)
    expires = ssl.cert_time_to_seconds(str(cert["notAfter"])) if "notAfter" in cert else None
    days = (expires - time.time()) / 86400 if expires is not None else None
    names = [v for k, v in cert.get("subjectAltName", ()) if k in ("DNS", "IP Address")]
    result.add("tls", host, f"issued by {issuer.get('organizationName') or ''} "
               f"{issuer.get('commonName') or ''}".strip(),
               f"verified; names {', '.join(names) or '(none)'}; the host name matches", "ok")
    if days is not None:
        result.add("tls", "expires", f"{cert['notAfter']} ({days:.0f} days)",
                   "renew it soon" if days < 30 else "",
                   "warn" if days < 30 else "ok")
    result.add("timing", f"TLS {host}", f"{(time.perf_counter() - started) * 1000:.0f} ms",
               "", "info")


def _sign_in(result: Preflight, navigator: Navigator, root_url: str, username: str,
             password: str, auth: Grant, tls: ssl.SSLContext | bool) -> None:
    started = time.perf_counter()
    try:
        applications = sign_in(navigator, result.log, root_url, username=username,
                               password=password, token=None, auth=auth, verify=tls)
    except (UcwaError, DiscoveryError, httpx.HTTPError) as exc:
        result.add("sign-in", username, str(exc), "sign-in failed (nothing was created)",
                   "fail")
        return
    tokens = [r for r in result.log.rows if r.rel == "token" and r.status == 200]
    form = dict(parse_qsl(tokens[-1].request_body or "")) if tokens else {}
    result.add("sign-in", username, f"{form.get('grant_type', '?')} grant",
               f"a token; the applications resource is {applications} (no application "
               f"was created) in {(time.perf_counter() - started) * 1000:.0f} ms", "ok")
