"""HTTP only: parse requests, call the tile service's parts, shape responses.

The tile route is a bare ASGI endpoint (no Request/Response objects): it is
the hot path, served from the LRU thousands of times per second.
"""

from __future__ import annotations

import time

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from tileserver import params, seatsapi
from tileserver.engine import TileEngine
from tileserver.errors import BadTileRequest, TileNotFound
from tileserver.etag import matches
from tileserver.hot import TTL_S as HOT_TTL_S
from tileserver.hot import HotEntry
from tileserver.pyramid import TileKey, parse_tile_name

CORS = (b"access-control-allow-origin", b"*")
EXPOSE = (b"access-control-expose-headers", b"ETag, X-Status-Version")
MAP_MEDIA = {"png": "image/png", "webp": "image/webp", "pdf": "application/pdf",
             "svg": "image/svg+xml"}


class TileEndpoint:
    """GET /events/{event_id}/tiles/{z}/{x}/{y}[@2x].{png|webp} as a bare ASGI app."""

    __name__ = "tile"

    def __init__(self, service: TileEngine) -> None:
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            raise BadTileRequest("tiles only answer GET and HEAD", method=method)
        path = scope["path_params"]
        event_id = params.event_id_of(path["event_id"])
        z = params.nonneg_int(path["z"], "z")
        x = params.nonneg_int(path["x"], "x")
        parsed = parse_tile_name(path["name"])
        if parsed is None:
            raise BadTileRequest(
                f"bad tile name {path['name']!r}: expected {{y}}.png, {{y}}@2x.png, "
                "{y}.webp or {y}@2x.webp", field="y")
        y, density, fmt = parsed
        tile = await self.service.tiles.tile(event_id, TileKey(z, x, y, density), fmt)
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
                break
        etag = tile.etag.encode()
        headers = [(b"etag", etag), (b"cache-control", tile.cache_control.encode()), CORS, EXPOSE]
        ok_headers = [
            *headers,
            (b"content-type", tile.media_type.encode()),
            (b"content-length", str(len(tile.body)).encode()),
        ]
        self.service.hot.remember(scope["path"], HotEntry(
            follower=tile.follower,
            version=tile.version,
            expires=time.monotonic() + HOT_TTL_S,
            etag=etag,
            ok_headers=ok_headers,
            not_modified_headers=headers,
            body=tile.body,
            counter=self.service.tiles.counter(tile.lod, "hot"),
        ))
        if matches(if_none_match, tile.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": ok_headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else tile.body})


def _conditional(request: Request, body: bytes, media_type: str, etag: str,
                 cache_control: str, extra: dict[str, str] | None = None) -> Response:
    headers = {"ETag": etag, "Cache-Control": cache_control,
               "Access-Control-Allow-Origin": "*",
               "Access-Control-Expose-Headers": "ETag, X-Status-Version", **(extra or {})}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def tile_routes(service: TileEngine) -> list[BaseRoute]:
    """Every route of the tile service."""

    async def tilejson(request: Request) -> Response:
        event_id = params.event_id_of(request.path_params["event_id"])
        body, etag = await service.tilejson(event_id, str(request.base_url).rstrip("/"))
        return _conditional(request, body, "application/json", etag, "public, max-age=60")

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

    async def seats_bin(request: Request) -> Response:
        event_id = params.event_id_of(request.path_params["event_id"])
        view, live, stream_id = await service.live(event_id)
        box = params.bbox(request.query_params.get("bbox"), view.venue)
        body = seatsapi.seats_bin(view.venue, live.statuses, box)
        return Response(body, media_type="application/octet-stream", headers={
            "Cache-Control": "no-cache", "X-Status-Version": stream_id,
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": "X-Status-Version"})

    async def seat_at(request: Request) -> Response:
        event_id = params.event_id_of(request.path_params["event_id"])
        view, live, _ = await service.live(event_id)
        query = request.query_params
        x = params.number(query, "x")
        y = params.number(query, "y")
        r = params.number(query, "r", view.grid.seat_diameter)
        if r <= 0 or r > max(view.venue.width, view.venue.height):
            raise BadTileRequest("r must be positive and at most the venue size", field="r")
        index = seatsapi.nearest_seat(view.venue, x, y, r)
        if index is None:
            raise TileNotFound(f"no seat within {r:g} of ({x:g}, {y:g})", x=x, y=y, r=r)
        return _json(seatsapi.seat_json(view.venue, live.statuses, index))

    async def seat(request: Request) -> Response:
        event_id = params.event_id_of(request.path_params["event_id"])
        raw = request.path_params["seat_index"]
        if not raw.isdigit() or len(raw) > 9:
            raise TileNotFound(f"seat {raw!r} does not exist; give its integer index")
        view, live, _ = await service.live(event_id)
        return _json(seatsapi.seat_json(view.venue, live.statuses, int(raw)))

    tiles = TileEndpoint(service)
    return [
        Route("/events/{event_id}/tiles/{z}/{x}/{name}", tiles),
        Route("/events/{event_id}/tiles.json", tilejson, methods=["GET"]),
        Route("/events/{event_id}/map.{fmt}", static_map, methods=["GET"]),
        Route("/events/{event_id}/seats.bin", seats_bin, methods=["GET"]),
        Route("/events/{event_id}/seats/at", seat_at, methods=["GET"]),
        Route("/events/{event_id}/seats/{seat_index}", seat, methods=["GET"]),
    ]


def _json(data: object) -> Response:
    return Response(orjson.dumps(data), media_type="application/json",
                    headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"})
