"""The server's settings a recording shows, as ``[server]`` keys of a scenario.

What a recording can carry, and from where:

* ``ucwa_version``: the ``X-MS-UcwaVersion`` header of its responses (Versioning.md);
* ``grant_types`` and ``server_fqdn``: the 401 challenge's ``MsRtcOAuth grant_type`` and
  ``Bearer trusted_issuers`` (ucwa-protocol.md 1.3);
* ``min_poll_timeout``, ``default_poll_timeout`` and ``min_poll_aggregation``: the
  ``timeout``/``low``/``medium`` of the event polls the server accepted (events_ref). Only
  an upper bound of the minimum shows: a server that accepted ``timeout=180`` may accept less;
  the faithful default stays unless the recording went below it;
* ``token_lifetime``: the token response's ``expires_in``;
* ``ring_timeout``: from Alerting to completed Timeout of a call nobody answered.

What it cannot: ``application_expiry`` and ``callback_grace`` (nothing is seen unless the
recording waited that long), the classroom limits (a recording of one user never reaches
them), the poll maximum (1800 s, not a simulator setting).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ucwa_nb.record.recording import Recording, header_values

__all__ = ["DEFAULT_MIN_POLL_TIMEOUT", "observed_settings"]

# events_ref's minimums, the simulator's faithful defaults.
DEFAULT_MIN_POLL_TIMEOUT = 180.0
_DEFAULT_MIN_AGGREGATION = 5.0
_MAX_POLL_TIMEOUT = 1800.0
_GRANTS = re.compile(r'MsRtcOAuth\b.*?grant_type="(?P<grants>[^"]*)"', re.IGNORECASE)
_ISSUER = re.compile(r'trusted_issuers="[^"@]*@(?P<fqdn>[^"]+)"', re.IGNORECASE)


def _polls(recording: Recording) -> list[dict[str, float]]:
    polls = []
    for exchange in recording.exchanges:
        if exchange.method != "GET" or not exchange.path.endswith("/events") \
                or exchange.status != 200:
            continue
        query = dict(parse_qsl(urlsplit(exchange.url).query))
        numbers = {}
        for name in ("timeout", "low", "medium"):
            try:
                numbers[name] = float(query[name])
            except (KeyError, ValueError):
                continue
        polls.append(numbers)
    return polls


def _poll_settings(recording: Recording) -> dict[str, float]:
    polls = _polls(recording)
    timeouts = [p["timeout"] for p in polls if "timeout" in p]
    settings: dict[str, float] = {}
    if timeouts:
        lowest = min(min(timeouts), DEFAULT_MIN_POLL_TIMEOUT)
        if lowest < DEFAULT_MIN_POLL_TIMEOUT:
            settings["min_poll_timeout"] = lowest
        usual = Counter(timeouts).most_common(1)[0][0]
        settings["default_poll_timeout"] = min(max(usual, lowest), _MAX_POLL_TIMEOUT)
    timers = [p[name] for p in polls for name in ("low", "medium") if name in p]
    if timers and min(timers) < _DEFAULT_MIN_AGGREGATION:
        settings["min_poll_aggregation"] = min(timers)
    return settings


def _challenge_settings(recording: Recording) -> dict[str, str]:
    settings: dict[str, str] = {}
    for exchange in recording.exchanges:
        if exchange.status != 401:
            continue
        for value in header_values(exchange.headers, "www-authenticate"):
            grants = _GRANTS.search(value)
            if grants and "grant_types" not in settings:
                settings["grant_types"] = grants["grants"]
            issuer = _ISSUER.search(value)
            if issuer and "server_fqdn" not in settings:
                settings["server_fqdn"] = issuer["fqdn"]
    return settings


def _token_lifetime(recording: Recording) -> int | None:
    for exchange in recording.exchanges:
        if exchange.method == "POST" and exchange.status == 200 and exchange.response_body \
                and "expires_in" in exchange.response_body:
            match = re.search(r'"expires_in"\s*:\s*"?(\d+)', exchange.response_body)
            if match:
                return int(match.group(1))
    return None


def observed_settings(recording: Recording, ring_timeout: float | None = None) \
        -> dict[str, Any]:
    """The ``[server]`` keys ``recording`` shows (see the module docstring); keys it does not
    show are left out, so the simulator's defaults apply."""
    settings: dict[str, Any] = {}
    versions = Counter(v for x in recording.exchanges
                       for v in header_values(x.headers, "x-ms-ucwaversion"))
    if versions:
        settings["ucwa_version"] = versions.most_common(1)[0][0]
    settings |= _challenge_settings(recording)
    settings |= _poll_settings(recording)
    lifetime = _token_lifetime(recording)
    if lifetime is not None:
        settings["token_lifetime"] = lifetime
    if ring_timeout is not None:
        settings["ring_timeout"] = round(ring_timeout, 2)
    return settings
