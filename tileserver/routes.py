"""HTTP only: parse requests, call the tile service's parts, shape responses.

The tile route is a bare ASGI endpoint (no Request/Response objects): it is
the hot path, served from the LRU thousands of times per second.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import orjson
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from httpkit.bodies import json_response
from httpkit.conditional import conditional_response, content_etag, none_match
from httpkit.contract import declared, parse_params
from httpkit.cors import PUBLIC_HEADERS
from httpkit.proxies import forwarded_origin
from tileserver import operations as ops
from tileserver import params, seatsapi, seatwords, sections
from tileserver.engine import TileEngine
from tileserver.errors import TileNotFound
from tileserver.hot import TTL_S as HOT_TTL_S
from tileserver.hot import HotEntry
from tileserver.models import MapJsonQuery, PlacesQuery

MAP_MEDIA = ops.MAP_MEDIA


class TileEndpoint:
    """GET /events/{event_id}/tiles/{z}/{x}/{y}[@2x].{png|webp} as a bare ASGI app."""

    __name__ = "tile"

    def __init__(self, service: TileEngine) -> None:
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        event_id, key, fmt = params.tile_request(scope["path_params"])
        tile = await self.service.tiles.tile(event_id, key, fmt)
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
                break
        etag = tile.etag.encode()
        # The public CORS headers are part of the remembered answer: hot hits skip the middleware.
        headers = [(b"etag", etag), (b"cache-control", tile.cache_control.encode()),
                   *PUBLIC_HEADERS]
        ok_headers = [
            *headers,
            (b"content-type", tile.media_type.encode()),
            (b"content-length", str(len(tile.body)).encode()),
        ]
        self.service.hot.remember(scope["path"], HotEntry(
            follower=tile.follower,
            version=tile.version,
            expires=time.monotonic() + HOT_TTL_S,
            etag=tile.etag,
            ok_headers=ok_headers,
            not_modified_headers=headers,
            body=tile.body,
            counter=self.service.tiles.counter(tile.lod, "hot"),
        ))
        if none_match(if_none_match, tile.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": ok_headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else tile.body})


def _conditional(request: Request, body: bytes, media_type: str, etag: str,
                 cache_control: str, extra: dict[str, str] | None = None) -> Response:
    return conditional_response(request, body, media_type, etag,
                                {"Cache-Control": cache_control, **(extra or {})})


def tile_routes(service: TileEngine) -> list[BaseRoute]:
    """Every route of the tile service."""

    async def tilejson(request: Request) -> Response:
        event_id = params.event_id_of(request.path_params["event_id"])
        proxies = service.ctx.settings.trusted_proxies
        scheme, host = forwarded_origin(request, proxies)
        root = request.scope.get("root_path", "").rstrip("/")
        body, etag = await service.tilejson(event_id, f"{scheme}://{host}{root}")
        # Behind trusted proxies the absolute URLs follow their X-Forwarded-* headers.
        vary = {"Vary": "X-Forwarded-Host, X-Forwarded-Proto"} if proxies else None
        return _conditional(request, body, "application/json", etag, "public, max-age=60", vary)

    async def static_map(request: Request) -> Response:
        event_id = params.event_id_of(request.path_params["event_id"])
        fmt = request.path_params["fmt"]
        if fmt not in MAP_MEDIA:
            raise TileNotFound(f"no map format {fmt!r}; use png, webp, pdf or svg")
        query = dict(request.query_params)
        body, etag, media = await service.static_map(event_id, fmt, query)
        disposition = {}
        if media in ("pdf", "svg"):
            disposition = {"Content-Disposition": f'inline; filename="event-{event_id}.{media}"'}
        return _conditional(request, body, MAP_MEDIA[media], etag,
                            "public, max-age=0, s-maxage=5, must-revalidate", disposition)

    async def map_json(request: Request) -> Response:
        event_id = params.event_id_of(request.path_params["event_id"])
        view = await service.ctx.catalog.get(event_id)
        query = parse_params(MapJsonQuery, request.query_params, "query")
        mine = params.highlight(query.highlight, view.venue)
        image = f"map.png?{urlencode({'highlight': query.highlight})}"
        return _venue_json(request, seatwords.map_description(view.venue, mine, image))

    async def seats_bin(request: Request) -> Response:
        event_id = params.event_id_of(request.path_params["event_id"])
        view, live, stream_id = await service.live(event_id)
        box = params.bbox(request.query_params.get("bbox"), view.venue)
        body = seatsapi.seats_bin(view.venue, live.statuses, box)
        return Response(body, media_type="application/octet-stream", headers={
            "Cache-Control": "no-cache", "X-Status-Version": stream_id})

    async def seat_at(request: Request) -> Response:
        event_id = params.event_id_of(request.path_params["event_id"])
        view, live, _ = await service.live(event_id)
        query = params.point(request.query_params)
        x, y, r = query.x, query.y, query.r or view.grid.seat_diameter
        index = seatsapi.nearest_seat(view.venue, x, y, r)
        if index is None:
            raise TileNotFound(f"no seat within {r:g} of ({x:g}, {y:g})", x=x, y=y, r=r)
        return _json(seatsapi.seat_json(view.venue, live.statuses, index))

    async def seat(request: Request) -> Response:
        event_id = params.event_id_of(request.path_params["event_id"])
        index = params.nonneg_int(request.path_params["seat_index"], "seat_index")
        view, live, _ = await service.live(event_id)
        return _json(seatsapi.seat_json(view.venue, live.statuses, index))

    outlines: dict[str, dict[str, object]] = {}  # sections.json per venue content hash

    async def sections_json(request: Request) -> Response:
        view = await service.ctx.catalog.get(params.event_id_of(request.path_params["event_id"]))
        key = view.venue.content_hash
        if key not in outlines:
            outlines[key] = sections.sections_payload(view.venue)
        return _venue_json(request, outlines[key])

    async def section_json(request: Request) -> Response:
        view = await service.ctx.catalog.get(params.event_id_of(request.path_params["event_id"]))
        index = params.nonneg_int(request.path_params["section"], "section")
        return _venue_json(request, sections.section_rows_payload(view.venue, index))

    async def places_json(request: Request) -> Response:
        view = await service.ctx.catalog.get(params.event_id_of(request.path_params["event_id"]))
        seats = parse_params(PlacesQuery, request.query_params, "query").seats
        wanted = sections.parse_seat_list(seats, view.venue.seat_count)
        return _venue_json(request, sections.places_payload(view.venue, wanted))

    tiles = TileEndpoint(service)
    return [
        declared(tiles, *ops.TILES, path="/events/{event_id}/tiles/{z}/{x}/{name}"),
        declared(tilejson, ops.TILEJSON),
        declared(map_json, ops.MAP_JSON),
        declared(static_map, *ops.MAPS, path="/events/{event_id}/map.{fmt}"),
        declared(seats_bin, ops.SEATS_BIN),
        declared(seat_at, ops.SEAT_AT),
        declared(seat, ops.SEAT),
        declared(_gzipped(sections_json), ops.SECTIONS),
        declared(_gzipped(section_json), ops.SECTION_ROWS),
        declared(_gzipped(places_json), ops.PLACES),
    ]


def _json(data: object) -> Response:
    return json_response(data, headers={"Cache-Control": "no-cache"})


def _venue_json(request: Request, payload: object) -> Response:
    """Venue data (it never changes with availability): content ETag, cacheable for minutes."""
    body = orjson.dumps(payload)
    etag = content_etag(body)
    return _conditional(request, body, "application/json", etag, "public, max-age=300")


def _gzipped(endpoint: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
    """An endpoint whose larger answers are gzip-compressed for clients that accept it."""
    return GZipMiddleware(request_response(endpoint), minimum_size=512)
