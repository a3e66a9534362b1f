"""Who is really on the other end: client address and origin behind trusted proxies.

`X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` are only believed
when the immediate peer (the TCP address the server sees) is inside one of the
configured trusted networks (`SEATMAP_TRUSTED_PROXIES`); by default none is
trusted, so any client can write those headers and none of them count. Behind
a chain of proxies the client address is the right-most `X-Forwarded-For`
entry that is not itself a trusted proxy: every entry left of it was written
by someone we cannot vouch for.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import HTTPConnection
from starlette.types import Scope

# The networks come parsed from Settings.trusted_proxies (SEATMAP_TRUSTED_PROXIES).
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN_ADDRESS = "unknown"


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443" as some proxies write it
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:5123"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: str, networks: Sequence[Network]) -> bool:
    """True when `address` parses and lies inside one of the trusted networks."""
    parsed = _address(address)
    return parsed is not None and any(parsed in network for network in networks)


def _scope_of(scope_or_request: Scope | HTTPConnection) -> Scope:
    if isinstance(scope_or_request, HTTPConnection):
        return scope_or_request.scope
    return scope_or_request


def _header_values(scope: Scope, name: bytes) -> list[str]:
    return [
        value.decode("latin-1") for key, value in scope.get("headers", ()) if key.lower() == name
    ]


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else UNKNOWN_ADDRESS


def client_address(scope_or_request: Scope | HTTPConnection, networks: Sequence[Network]) -> str:
    """The peer address, or via trusted proxies the right-most untrusted X-Forwarded-For hop."""
    scope = _scope_of(scope_or_request)
    peer = _peer(scope)
    if not networks or not is_trusted(peer, networks):
        return str(_address(peer) or peer)
    values = _header_values(scope, b"x-forwarded-for")
    hops = [hop.strip() for value in values for hop in value.split(",")]
    for hop in reversed(hops):
        parsed = _address(hop)
        if parsed is None:
            # Garbage in the chain: stop believing it and blame the last proxy that passed it on.
            break
        if not any(parsed in network for network in networks):
            return str(parsed)
        peer = str(parsed)
    return str(_address(peer) or peer)


def forwarded_origin(request: HTTPConnection, networks: Sequence[Network]) -> tuple[str, str]:
    """(scheme, host) the client used: X-Forwarded-Proto/Host only when the peer is trusted."""
    scheme = request.url.scheme
    host = request.headers.get("host") or request.url.netloc
    if networks and is_trusted(_peer(request.scope), networks):
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if proto in ("http", "https"):
            scheme = proto
        forwarded_host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
        if forwarded_host and _plausible_host(forwarded_host):
            host = forwarded_host
    return scheme, host


def _plausible_host(host: str) -> bool:
    """A host[:port] made of the characters a host name or IP literal can have."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
    return len(host) <= 255 and all(ch in allowed for ch in host)
