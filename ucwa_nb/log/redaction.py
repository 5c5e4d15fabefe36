"""Redaction: keep tokens and passwords out of everything the project stores or shows.

One ``Redactor`` is shared by the exchange log, its HAR and CSV exports and the client's
exception messages, so there is a single list of rules and a single marker, ``[REDACTED]``.
Redaction happens when a value is recorded, not when it is displayed: nothing secret is ever
kept in memory by the log, so no later view, export or notebook output can leak it.

Rules, applied to every string (urls, bodies, header values, error messages, ...):

* every registered secret (``add_secret``: the access token, the password) anywhere, also in
  its JSON-, URL- and XML-escaped spellings, since that is how it appears inside bodies;
* the values of the members/fields ``access_token``, ``refresh_token``, ``id_token``,
  ``password``, ``client_secret`` (and names ending with those) and ``ms_rtc_renew``, in JSON
  (``"password": "..."``), form or query strings (``password=...``) and UCWA XML properties;
* a UCWA token anywhere (``cwt=...``, also URL-encoded ``cwt%3D...``), even when nobody
  registered it, e.g. in a HAR captured by a browser;
* a ``Bearer`` credential in free text, keeping the scheme visible: ``Bearer [REDACTED]``;
* a ``Negotiate`` or ``NTLM`` token (Windows sign-in's handshake, in ``Authorization`` and
  ``WWW-Authenticate`` alike: NTLM messages carry password hashes, or what an attacker needs
  to crack one), keeping the scheme: ``Negotiate [REDACTED]``; and a raw NTLM message
  anywhere (base64 of ``NTLMSSP``: ``TlRMTVNTUA...``).

and to headers by name: ``Authorization``/``Proxy-Authorization`` keep only their scheme,
``Cookie``/``Set-Cookie`` and names that look like credentials (``*token*``, ``*secret*``,
``*password*``, ``*api-key*``) lose their whole value. ``WWW-Authenticate`` challenges stay
readable (but for a handshake token): they are what a learner wants to see on a 401.
"""

from __future__ import annotations

import functools
import html
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Final, Literal
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "Headers", "HeadersLike", "Redactor", "redact"]

REDACTED: Final = "[REDACTED]"

# Headers as stored: ordered (name, value) pairs, so repeated headers such as the two
# WWW-Authenticate challenges of a UCWA 401 survive, and the value is immutable.
Headers = tuple[tuple[str, str], ...]
HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]]

# Names whose values are secrets, wherever they appear (JSON member, form field, XML property).
SECRET_KEYS: Final = ("access_token", "refresh_token", "id_token", "password", "passwd",
                      "client_secret", "ms_rtc_renew")
_KEY = rf"(?:[\w.-]*(?:{'|'.join(SECRET_KEYS[:-1])})|{SECRET_KEYS[-1]})"
# Every rule of the pattern needs one of these words (tested against SECRET_KEYS), which
# lets most bodies skip the pattern.
TRIGGER_WORDS: Final = ("token", "passw", "secret", "bearer", "cwt", "ms_rtc_renew",
                        "negotiate", "ntlm", "tlrmtvntua")
# One alternation, so a string is scanned once; named groups say which rule matched and
# hold the part to keep (the key, the scheme) in front of the marker.
_PATTERN: Final = re.compile(
    rf'(?P<json>"{_KEY}"\s*:\s*)(?:"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*)'
    rf"|(?P<form>(?<![\w.-]){_KEY}=)[^&\s#\"'<]+"
    rf'|(?P<xml><property\s+name="{_KEY}"\s*>)[^<]+'
    # A token68 credential (plus % and \ for encoded and JSON-escaped tokens), but not an
    # auth-param (`Bearer realm="..."` is a challenge); "[REDACTED]" does not match it.
    r'|(?P<bearer>\bBearer\s+)(?![\w.-]+=")[\w~+/=.%\\-]+'
    r"|\bcwt(?:=|%3D)[\w~+/=.%\\-]+"
    # A handshake token is base64 (RFC 4559): 16 characters or more, so that prose such as
    # "Negotiate handshake" stays readable.
    r"|(?P<negotiate>\b(?:Negotiate|NTLM)\s+)[A-Za-z0-9+/]{16,}={0,2}"
    r"|\bTlRMTVNTUA[A-Za-z0-9+/]*={0,2}",
    re.IGNORECASE,
)


def _may_match(value: str) -> bool:
    """Cheap test before the pattern, which costs tens of microseconds on a 2 kB body: every
    rule needs one of these words, and almost no body contains any of them."""
    lowered = value.lower()
    return any(word in lowered for word in TRIGGER_WORDS)


_SCHEME_HEADERS: Final = frozenset({"authorization", "proxy-authorization"})
_SECRET_HEADER: Final = re.compile(
    r"^(?:cookie|set-cookie)$|token|secret|password|api[-_]?key", re.IGNORECASE
)


@functools.lru_cache(maxsize=256)  # a session uses a few dozen header names
def _header_rule(name: str) -> Literal["scheme", "whole", "text"]:
    lowered = name.lower()
    if lowered in _SCHEME_HEADERS:
        return "scheme"
    return "whole" if _SECRET_HEADER.search(lowered) else "text"


def _replace(match: re.Match[str]) -> str:
    if match.group("json") is not None:
        return f'{match.group("json")}"{REDACTED}"'
    for keep in ("form", "xml", "bearer", "negotiate"):
        prefix = match.group(keep)
        if prefix is not None:
            return prefix + REDACTED
    return REDACTED


def _spellings(secret: str) -> set[str]:
    """The ways a secret can be written inside a url, a form, a JSON or an XML body."""
    as_json = json.dumps(secret, ensure_ascii=False)[1:-1]
    return {
        secret,
        as_json,
        as_json.replace("/", "\\/"),  # ASP.NET escapes the slash ("\/Date(...)\/")
        json.dumps(secret)[1:-1],  # \uXXXX for non-ASCII
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        html.escape(secret, quote=True),
    }


_HEADER_CACHE_SIZE = 512  # Locations and dates vary per exchange: keep the cache bounded


class Redactor:
    """Replaces secrets with ``REDACTED``. Thread-safe: secrets may be added at any time."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        # Replaced as a whole under the lock, read without it: readers see an old or a new
        # tuple, never a half-built one.
        self._spelled: tuple[str, ...] = ()
        # (name, value) -> redacted value. The same headers recur on every exchange (Accept,
        # Content-Type, User-Agent, Authorization), and redacting them is most of the cost
        # of logging one. Replaced by an empty dict whenever a secret is added.
        self._header_cache: dict[tuple[str, str], str] = {}
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, value: str | None) -> None:
        """Redact this string (and its escaped spellings) wherever it appears from now on.

        Empty values are ignored; anything else is taken, even a short one: a leak is worse
        than an over-redacted log.
        """
        if not value:
            return
        with self._lock:
            spelled = set(self._spelled) | {s for s in _spellings(value) if s}
            # Longest first, so a secret containing another one is replaced whole.
            self._spelled = tuple(sorted(spelled, key=len, reverse=True))
            # After _spelled: a reader that sees the new cache also sees the new secrets.
            self._header_cache = {}

    def text(self, value: str) -> str:
        """Any string: a url, a body, a header value, an error message."""
        for spelled in self._spelled:
            if spelled in value:
                value = value.replace(spelled, REDACTED)
        return _PATTERN.sub(_replace, value) if _may_match(value) else value

    def optional(self, value: str | None) -> str | None:
        return None if value is None else self.text(value)

    def body(self, body: str | bytes | None) -> str | None:
        """A request or response body, decoded as UTF-8; empty bodies become None."""
        if not body:
            return None
        if isinstance(body, bytes):
            # UCWA bodies are UTF-8 text; anything else is kept readable rather than refused.
            body = body.decode("utf-8", errors="replace")
        return self.text(body)

    def header(self, name: str, value: str) -> str:
        cache = self._header_cache  # read before the secrets (see add_secret)
        key = (name, value)
        found = cache.get(key)
        if found is None:
            found = self._header(name, value)
            if len(cache) < _HEADER_CACHE_SIZE:
                cache[key] = found
        return found

    def _header(self, name: str, value: str) -> str:
        rule = _header_rule(name)
        if rule == "scheme":
            scheme, sep, credentials = value.strip().partition(" ")
            # "Bearer cwt=..." keeps "Bearer"; a bare credential keeps nothing.
            return f"{scheme} {REDACTED}" if sep and credentials.strip() else REDACTED
        if rule == "whole":
            return REDACTED
        return self.text(value)

    def headers(self, headers: HeadersLike | None) -> Headers:
        """Redacted (name, value) pairs, in order, duplicates kept.

        Accepts a mapping, pairs, or an ``httpx.Headers``, read through ``raw``: unlike
        ``items()`` (and ``dict(headers)``) it neither merges repeated headers nor lowercases
        their names.
        """
        if headers is None:
            return ()
        raw = getattr(headers, "raw", None)
        if isinstance(raw, list):
            encoding = str(getattr(headers, "encoding", "latin-1"))
            pairs: Iterable[tuple[str, str]] = [
                (name.decode(encoding), value.decode(encoding)) for name, value in raw
            ]
        elif isinstance(headers, Mapping):
            pairs = headers.items()
        else:
            pairs = headers
        return tuple((str(name), self.header(str(name), str(value))) for name, value in pairs)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """One-off redaction of a string, e.g. an exception message built from a response."""
    return Redactor(secrets).text(text)
