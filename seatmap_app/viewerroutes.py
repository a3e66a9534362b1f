"""HTTP routes of the browser viewer: its pages, its static files, and its seat outline data.

`/viewer/?event=ID` is the full viewer and `/embed/{event_id}` the page partner
sites put in an iframe. Static files come from `viewer/`: the esbuild output in
`viewer/dist` when it has been built (`npm run build`), else the ES modules in
`viewer/src` as they are; Leaflet itself is served from `viewer/node_modules`,
never copied into the repository. Text files are gzip-compressed once and kept
in memory, because the first view of a phone on a slow network is what counts.

The viewer also needs what the tile server does not send: every section with
its bounds (to jump to it), the rows of a section in seat order (keyboard
navigation and the list view) and where a few seats are (the "your seats"
markers over raster tiles). `/viewer/api/events/{id}/sections.json`,
`.../sections/{s}.json` and `.../places.json?seats=i,j` give those, straight
from the loaded venue model.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from seatmap.context import ServiceContext
from seatmap.errors import BadRequest, NotFound
from seatmap.model import Venue

VIEWER_DIR = Path(__file__).resolve().parent.parent / "viewer"
# Most seats one places.json request may name.
MAX_PLACES = 100
# Files smaller than this are not worth compressing.
GZIP_MIN_BYTES = 512
# esbuild names split chunks `chunk-HASH.js`: their content never changes under a name.
IMMUTABLE_PREFIXES = ("chunk-",)
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
MEDIA_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".mjs": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


@dataclass(frozen=True, slots=True)
class _Asset:
    """One static file as sent: raw and gzip bodies, media type and ETag."""

    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str
    mtime_ns: int


class StaticAssets:
    """Files under a few named roots, cached in memory with gzip and ETags."""

    def __init__(self, roots: dict[str, list[Path]]) -> None:
        self._roots = roots
        self._cache: dict[Path, _Asset] = {}

    def resolve(self, mount: str, rel_path: str) -> Path | None:
        """The file `rel_path` under the first root of `mount` that has it, or None."""
        for root in self._roots.get(mount, []):
            base = root.resolve()
            candidate = (base / rel_path).resolve()
            if candidate.is_relative_to(base) and candidate.is_file():
                return candidate
        return None

    def load(self, path: Path) -> _Asset:
        """The cached asset of a file, re-read when the file changed on disk."""
        mtime_ns = path.stat().st_mtime_ns
        cached = self._cache.get(path)
        if cached is not None and cached.mtime_ns == mtime_ns:
            return cached
        body = path.read_bytes()
        media_type = MEDIA_TYPES.get(path.suffix) or (
            mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        )
        gzipped = None
        if len(body) >= GZIP_MIN_BYTES and media_type.startswith(TEXT_TYPES):
            gzipped = gzip.compress(body, compresslevel=9, mtime=0)
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        asset = _Asset(body, gzipped, media_type, etag, mtime_ns)
        self._cache[path] = asset
        return asset

    def response(self, request: Request, path: Path) -> Response:
        """Send a file with ETag revalidation, gzip when accepted, and cache headers."""
        asset = self.load(path)
        immutable = path.name.startswith(IMMUTABLE_PREFIXES)
        cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
        return send_bytes(request, asset.body, asset.gzipped, asset.media_type, asset.etag, cache)


def send_bytes(
    request: Request,
    body: bytes,
    gzipped: bytes | None,
    media_type: str,
    etag: str,
    cache_control: str,
) -> Response:
    """A body with ETag/304 handling and gzip content negotiation."""
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    if gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(gzipped, media_type=media_type, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _json(request: Request, payload: Any) -> Response:
    body = orjson.dumps(payload)
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
    return send_bytes(request, body, gzipped, "application/json", etag, "public, max-age=300")


def _round(value: float) -> float:
    return round(float(value), 2)


def sections_payload(venue: Venue) -> dict[str, Any]:
    """Every section with its bounds in venue units, seat and row counts."""
    seats = venue.seats
    out = []
    for section in venue.sections:
        xs = [p[0] for p in section.outline]
        ys = [p[1] for p in section.outline]
        inside = seats.section == section.index
        if inside.any():
            r = float(seats.radius[inside].max())
            xs += [float(seats.x[inside].min()) - r, float(seats.x[inside].max()) + r]
            ys += [float(seats.y[inside].min()) - r, float(seats.y[inside].max()) + r]
        bounds = [_round(min(xs)), _round(min(ys)), _round(max(xs)), _round(max(ys))] if xs else []
        out.append(
            {
                "index": section.index,
                "name": section.name,
                "bounds": bounds,
                "seat_count": int(inside.sum()),
            }
        )
    return {"width": venue.width, "height": venue.height, "sections": out}


def section_rows_payload(venue: Venue, section_index: int) -> dict[str, Any]:
    """A section's rows in order, each seat as [index, label, x, y, radius, category, flags].

    Flags: bit 0 accessible, bit 1 wheelchair, bit 2 companion (as in seats.bin).
    Rows come in the order the venue lists them; seats in row order.
    """
    if not 0 <= section_index < len(venue.sections):
        raise NotFound(f"section {section_index} does not exist", section=section_index)
    seats = venue.seats
    flags = (
        seats.accessible.astype(np.uint8)
        | ((seats.seat_type == 1).astype(np.uint8) << 1)
        | ((seats.seat_type == 2).astype(np.uint8) << 2)
    )
    rows = []
    for row in venue.rows:
        if row.section_index != section_index:
            continue
        rows.append(
            {
                "label": row.label,
                "seats": [
                    [
                        i,
                        seats.labels[i],
                        _round(seats.x[i]),
                        _round(seats.y[i]),
                        _round(seats.radius[i]),
                        int(seats.category[i]),
                        int(flags[i]),
                    ]
                    for i in row.seat_indices
                ],
            }
        )
    section = venue.sections[section_index]
    return {"index": section_index, "name": section.name, "rows": rows}


def parse_seat_list(raw: str, seat_count: int) -> list[int]:
    """Seat indices from "1,2,3"; BadRequest for anything else or more than MAX_PLACES."""
    parts = [p for p in raw.split(",") if p]
    if not parts or len(parts) > MAX_PLACES or not all(p.isdigit() and len(p) < 10 for p in parts):
        raise BadRequest(
            f"seats must be 1..{MAX_PLACES} comma-separated seat indices", field="seats"
        )
    indices = [int(p) for p in parts]
    if any(i >= seat_count for i in indices):
        raise NotFound("no such seat", field="seats")
    return indices


def places_payload(venue: Venue, seat_indices: list[int]) -> list[list[float]]:
    """Where seats are: [index, x, y, radius] each (the "your seats" markers of lite mode)."""
    seats = venue.seats
    return [
        [i, _round(seats.x[i]), _round(seats.y[i]), _round(seats.radius[i])] for i in seat_indices
    ]


def _page(template: Path, event_id: int | None, title: str) -> bytes:
    text = template.read_text(encoding="utf-8")
    text = text.replace("{{EVENT_ID}}", "" if event_id is None else str(event_id))
    text = text.replace("{{TITLE}}", html.escape(title))
    return text.encode()


def viewer_routes(ctx: ServiceContext, viewer_dir: Path = VIEWER_DIR) -> list[BaseRoute]:
    """Routes: /viewer/ (full viewer), /embed/{event_id}, static files, sections data."""
    dist = viewer_dir / "dist"
    src = viewer_dir / "src"
    assets = StaticAssets(
        {
            # Built bundles when present; the source modules otherwise (development).
            "app": [dist, src] if (dist / "boot.js").is_file() else [src],
            "src": [src],
            "vendor/leaflet": [viewer_dir / "node_modules" / "leaflet" / "dist"],
        }
    )
    payload_cache: dict[tuple[int, str], dict[str, Any]] = {}

    async def event_title(event_id: int) -> str:
        return (await ctx.catalog.get(event_id)).event.title

    async def page(request: Request, template: str, event_id: int | None) -> Response:
        title, found = "Seat map", True
        if event_id is not None:
            try:
                title = await event_title(event_id)
            except NotFound:
                title, found = "Event not found", False
        body = _page(viewer_dir / template, event_id, title)
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        html_type = "text/html; charset=utf-8"
        response = send_bytes(
            request, body, gzip.compress(body, mtime=0), html_type, etag, "no-cache"
        )
        if not found and response.status_code == 200:
            response.status_code = 404
        return response

    async def viewer_index(request: Request) -> Response:
        raw = request.query_params.get("event", "")
        event_id = int(raw) if raw.isdigit() and len(raw) < 12 else None
        return await page(request, "index.html", event_id)

    async def viewer_redirect(request: Request) -> Response:
        query = request.url.query
        return RedirectResponse("/viewer/" + (f"?{query}" if query else ""), status_code=308)

    async def embed(request: Request) -> Response:
        return await page(request, "embed.html", int(request.path_params["event_id"]))

    async def static(request: Request) -> Response:
        rel = str(request.path_params["path"])
        for mount in ("vendor/leaflet", "app", "src"):
            if rel.startswith(mount + "/"):
                found = assets.resolve(mount, rel[len(mount) + 1 :])
                if found is not None:
                    return assets.response(request, found)
        raise NotFound(f"no viewer file {rel!r}")

    async def sections(request: Request) -> Response:
        event_id = int(request.path_params["event_id"])
        view = await ctx.catalog.get(event_id)
        key = (view.event.venue_id, "sections")
        if key not in payload_cache:
            payload_cache[key] = sections_payload(view.venue)
        return _json(request, payload_cache[key])

    async def places(request: Request) -> Response:
        event_id = int(request.path_params["event_id"])
        view = await ctx.catalog.get(event_id)
        wanted = parse_seat_list(request.query_params.get("seats", ""), view.venue.seat_count)
        return _json(request, places_payload(view.venue, wanted))

    async def section_rows(request: Request) -> Response:
        event_id = int(request.path_params["event_id"])
        section_index = int(request.path_params["section"])
        view = await ctx.catalog.get(event_id)
        return _json(request, section_rows_payload(view.venue, section_index))

    return [
        Route("/viewer", viewer_redirect),
        Route("/viewer/", viewer_index),
        Route("/viewer/api/events/{event_id:int}/sections.json", sections),
        Route("/viewer/api/events/{event_id:int}/sections/{section:int}.json", section_rows),
        Route("/viewer/api/events/{event_id:int}/places.json", places),
        Route("/viewer/{path:path}", static),
        Route("/embed/{event_id:int}", embed),
    ]
