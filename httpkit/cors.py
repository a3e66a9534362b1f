"""Cross-origin access for partner sites: public reads from anywhere, buyer writes from a list.

Two policies, each Starlette's `CORSMiddleware`, chosen by the request path:

- public reads (tiles, maps, TileJSON, the live stream, status snapshots, seat
  and section data, the API document): `Access-Control-Allow-Origin: *` on
  every answer, whether or not the request named an Origin, so a CDN copy made
  for one visitor also works on every partner page; preflights for the
  conditional headers (If-None-Match, Last-Event-ID) are answered too.
- the buyer API (sessions, holds, best available): only the origins listed in
  `SEATMAP_CORS_ORIGINS` (none by default). A browser request from any other
  cross origin is refused with 403 before it reaches the route, so a page
  that may not hold seats cannot make the server hold them even where the
  browser would not let it read the answer.

Paths are Starlette route templates ("/events/{event_id:int}/stream") that
each service declares beside its routes; anything else gets no CORS headers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from httpkit.errors import json_error
from httpkit.proxies import Network, forwarded_origin

EXPOSED_HEADERS = ("ETag", "X-Status-Version", "X-Last-Event-ID", "X-Request-ID", "Retry-After")
PUBLIC_METHODS = ("GET", "HEAD")
PUBLIC_REQUEST_HEADERS = ("If-None-Match", "If-Modified-Since", "Last-Event-ID", "Cache-Control")
BUYER_METHODS = ("GET", "POST", "DELETE")
BUYER_REQUEST_HEADERS = ("Authorization", "Content-Type")
DEFAULT_PORTS = {"http": ":80", "https": ":443"}
# How long a browser may reuse a preflight answer.
PREFLIGHT_MAX_AGE_S = 600
PUBLIC_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", ", ".join(EXPOSED_HEADERS).encode()),
]


@dataclass(frozen=True, slots=True)
class CorsPaths:
    """Which route templates are public reads and which are the buyer API."""

    public: tuple[str, ...] = ()
    buyer: tuple[str, ...] = ()

    def __add__(self, other: CorsPaths) -> CorsPaths:
        """The paths of both, as the policy of an app serving both services."""
        return CorsPaths(self.public + other.public, self.buyer + other.buyer)


def _matcher(templates: Sequence[str]) -> re.Pattern[str]:
    if not templates:
        return re.compile(r"(?!)")  # matches nothing
    # One alternation of Starlette's own path patterns, their named groups made anonymous.
    patterns = (compile_path(t)[0].pattern.removeprefix("^").removesuffix("$") for t in templates)
    return re.compile("(?:" + "|".join(re.sub(r"\(\?P<\w+>", "(?:", p) for p in patterns) + ")$")


class PartnerCorsMiddleware:
    """ASGI middleware applying the two policies of the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        paths: CorsPaths,
        buyer_origins: Sequence[str] = (),
        trusted_proxies: Sequence[Network] = (),
    ) -> None:
        self.app = app
        self._public = _matcher(paths.public)
        self._buyer = _matcher(paths.buyer)
        self._buyer_origins = frozenset(buyer_origins)
        self._trusted_proxies = tuple(trusted_proxies)
        self._public_preflight = CORSMiddleware(
            app, allow_origins=["*"], allow_methods=PUBLIC_METHODS,
            allow_headers=PUBLIC_REQUEST_HEADERS, expose_headers=EXPOSED_HEADERS,
            max_age=PREFLIGHT_MAX_AGE_S)
        self._buyer_cors = CORSMiddleware(
            app, allow_origins=sorted(self._buyer_origins), allow_methods=BUYER_METHODS,
            allow_headers=BUYER_REQUEST_HEADERS, expose_headers=EXPOSED_HEADERS,
            max_age=PREFLIGHT_MAX_AGE_S)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if self._buyer.match(path):
            await self._buyer_request(scope, receive, send)
        elif self._public.match(path):
            if scope["method"] == "OPTIONS":
                await self._public_preflight(scope, receive, send)
            else:
                await self.app(scope, receive, _with_public_headers(send))
        else:
            await self.app(scope, receive, send)

    async def _buyer_request(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = Headers(scope=scope).get("origin")
        if origin is None or origin in self._buyer_origins or self._same_origin(
                scope, origin):
            await self._buyer_cors(scope, receive, send)
            return
        response = json_error(403, "origin_not_allowed",
                              f"origin {origin!r} may not use the buyer API; allowed origins "
                              "are set with SEATMAP_CORS_ORIGINS", origin=origin)
        await response(scope, receive, send)

    def _same_origin(self, scope: Scope, origin: str) -> bool:
        """Whether the page is one of this server's own (the viewer, the embed page).

        Hosts are compared, not schemes: TLS often ends at a proxy that is not
        in SEATMAP_TRUSTED_PROXIES, and the same host is the same site.
        """
        origin_scheme, _, origin_host = origin.partition("://")
        _, host = forwarded_origin(HTTPConnection(scope), self._trusted_proxies)
        return _without_default_port(origin_host, origin_scheme) == _without_default_port(host)


def _without_default_port(host: str, scheme: str | None = None) -> str:
    """`host[:port]` lower-cased, without :80 or :443 (only the scheme's own when given)."""
    host = host.lower()
    for name, port in DEFAULT_PORTS.items():
        if scheme in (None, name):
            host = host.removesuffix(port)
    return host


def _with_public_headers(send: Send) -> Send:
    async def send_public(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            if not any(name == b"access-control-allow-origin" for name, _ in headers):
                headers += PUBLIC_HEADERS
                message = {**message, "headers": headers}
        await send(message)

    return send_public
