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


def parse_challenge(headers: list[str]) -> Challenge | None:
    """Read the ``MsRtcOAuth`` (and ``Bearer``) WWW-Authenticate headers of a 401.

    ``href`` is quoted in real traces and unquoted on the concept page: accept both.
    """
    token_url: str | None = None
    grants: tuple[str, ...] = ()
    issuers = client_id = None
    for header in headers:
        scheme, _, rest = header.strip().partition(" ")
        params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
                  for m in _PARAM.finditer(rest)}
        if scheme.lower() == "msrtcoauth":
            token_url = params.get("href")
            grants = tuple(g.strip() for g in params.get("grant_type", "").split(",")
                           if g.strip())
        elif scheme.lower() == "bearer":
            issuers = params.get("trusted_issuers")
            client_id = params.get("client_id")
    if token_url is None:
        return None
    return Challenge(token_url, grants, issuers, client_id)
