"""Autodiscovery and the OAuth challenge (ucwa-protocol.md sections 1.2 and 1.3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Challenge", "candidate_roots", "parse_challenge", "same_domain"]


@dataclass(frozen=True)
class Challenge:
    """What a 401 from the user resource offers: the token endpoint and its grant types."""

    token_url: str
    grant_types: tuple[str, ...]
    trusted_issuers: str | None = None
    client_id: str | None = None


def candidate_roots(domain: str) -> list[str]:
    """Autodiscover URLs to try in order: internal before external, HTTPS before HTTP."""
    domain = domain.strip().lower().rstrip(".")
    hosts = [f"lyncdiscoverinternal.{domain}", f"lyncdiscover.{domain}"]
    return [f"{scheme}://{host}/" for host in hosts for scheme in ("https", "http")]


def same_domain(url: str, domain: str) -> bool:
    """The anti-spoofing check before following a redirect: the host must be in ``domain``."""
    host = (urlsplit(url).hostname or "").lower()
    domain = domain.lower()
    return host == domain or host.endswith("." + domain)


_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*(?:"([^"]*)"|([^,\s]+))')
_STARTS_PARAM = re.compile(r"\s*[A-Za-z_]+\s*=")


def parse_challenge(headers: list[str]) -> Challenge | None:
    """Read the ``MsRtcOAuth`` (and ``Bearer``) WWW-Authenticate headers of a 401.

    ``href`` is quoted in real traces and unquoted on the concept page: accept both. A proxy
    may join the two headers into one, comma-separated (RFC 9110 5.3; configurable-http-proxy,
    JupyterHub's, does): each challenge is found in either shape.
    """
    token_url: str | None = None
    grants: tuple[str, ...] = ()
    issuers = client_id = None
    for scheme, params in _challenges(headers):
        if scheme == "msrtcoauth":
            token_url = params.get("href")
            grants = tuple(g.strip() for g in params.get("grant_type", "").split(",")
                           if g.strip())
        elif scheme == "bearer":
            issuers = params.get("trusted_issuers")
            client_id = params.get("client_id")
    if token_url is None:
        return None
    return Challenge(token_url, grants, issuers, client_id)


def _challenges(headers: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Each challenge's scheme (lower case) and parameters (names in lower case)."""
    challenges: list[tuple[str, dict[str, str]]] = []
    for header in headers:
        for item in _top_level_items(header):
            if not _STARTS_PARAM.match(item):  # "Scheme" or "Scheme name=value": a new one
                scheme, _, item = item.strip().partition(" ")
                challenges.append((scheme.lower(), {}))
            match = _PARAM.match(item.strip())
            if match is not None and challenges:
                value = match.group(2) if match.group(2) is not None else match.group(3)
                challenges[-1][1][match.group(1).lower()] = value
    return challenges


def _top_level_items(header: str) -> list[str]:
    """``header`` split at the commas outside quoted strings."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in header:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return [item for item in items if item.strip()]
