"""Which client a request comes from: its TCP peer, or, only when that peer is a proxy the
operator names, the address the proxy forwards in ``X-Forwarded-For``.

uvicorn's own handling (``proxy_headers=True`` with ``forwarded_allow_ips="127.0.0.1"`` by
default) believes ``X-Forwarded-For`` from anything connecting from 127.0.0.1: every
attendee on a one-machine hub, anything on the server's host. The sign-in limits and the
connection caps are keyed by client address, so that let anyone choose the address they
are counted under (45 wrong passwords with rotating forwarded addresses never throttled;
forged failures "from" another address locking a user out there). The simulator therefore
turns uvicorn's handling off and applies ``ForwardedFor``: nothing is trusted unless the
operator names the proxies (``Simulator(forwarded_allow_ips=...)``, ``ucwa-nb serve
--forwarded-allow-ips``), as single addresses or networks (``10.0.0.0/8``).

Behind a trusted proxy the client is the right-most ``X-Forwarded-For`` entry that is not
itself a trusted proxy (entries further left are whatever the client wrote). The TCP peer is
kept in the scope (``peer_of``): the connection guard counts connections by peer, which is
what it sees.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

__all__ = ["ForwardedFor", "TrustedProxies", "peer_of"]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_PEER = "ucwa_nb.peer"  # the scope key of the TCP peer's address (an ASGI extension key)
_SCHEMES = {"http", "https"}


class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` is believed: addresses or networks, none by
    default. ``"*"`` trusts every peer (only for a server nobody reaches but its proxy)."""

    def __init__(self, proxies: str | Iterable[str] | None = None) -> None:
        items = proxies.split(",") if isinstance(proxies, str) else list(proxies or ())
        self.networks: tuple[Network, ...] = ()
        self.everyone = False
        networks = []
        for item in (i.strip() for i in items):
            if not item:
                continue
            if item == "*":
                self.everyone = True
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"forwarded_allow_ips: {item!r} is not an IP address or "
                                 "network (e.g. 10.0.0.7 or 10.0.0.0/8)") from None
        self.networks = tuple(networks)

    def __bool__(self) -> bool:
        return self.everyone or bool(self.networks)

    def __contains__(self, address: object) -> bool:
        if self.everyone:
            return True
        try:
            ip = ipaddress.ip_address(str(address))
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The client behind ``peer`` given its ``X-Forwarded-For`` (``peer`` if untrusted)."""
        if peer not in self:
            return peer
        client = peer
        for entry in reversed([e.strip() for e in forwarded_for.split(",")]):
            host = _host(entry)
            if host is None:  # garbage: stop believing the list here
                break
            client = host
            if host not in self:
                break
        return client

    def __repr__(self) -> str:
        shown = ["*"] if self.everyone else [str(n) for n in self.networks]
        return f"TrustedProxies({', '.join(shown) or 'none'})"


def _host(entry: str) -> str | None:
    """The IP address of one ``X-Forwarded-For`` entry (``1.2.3.4``, ``1.2.3.4:5``,
    ``[::1]:5``, ``::1``); None if it is none."""
    if entry.startswith("["):
        entry = entry[1:entry.find("]")] if "]" in entry else ""
    elif entry.count(":") == 1:
        entry = entry.partition(":")[0]
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:
        return None


class ForwardedFor:
    """ASGI middleware: ``scope["client"]`` becomes the forwarded client when the peer is a
    trusted proxy (and ``scope["scheme"]`` its ``X-Forwarded-Proto``); the peer is kept."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            peer = client[0] if client else ""
            scope[_PEER] = peer
            if self.trusted and peer in self.trusted:
                forwarded: list[str] = []
                proto = None
                for name, value in scope.get("headers", ()):
                    if name == b"x-forwarded-for":
                        forwarded.append(value.decode("latin-1"))
                    elif name == b"x-forwarded-proto":
                        proto = value.decode("latin-1").strip().lower()
                if forwarded:
                    host = self.trusted.client(peer, ",".join(forwarded))
                    port = client[1] if client and host == peer else 0
                    scope["client"] = (host, port)
                if proto in _SCHEMES and scope["type"] == "http":
                    scope["scheme"] = proto
        await self.app(scope, receive, send)


def peer_of(scope: Scope) -> str:
    """The TCP peer's address of a request (the proxy's, behind one)."""
    peer = scope.get(_PEER)
    if isinstance(peer, str):
        return peer
    client = scope.get("client")
    return str(client[0]) if client else ""
