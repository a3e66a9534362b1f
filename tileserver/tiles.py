"""Produce tile bodies and ETags: the tile backend behind the HTTP routes.

Per request: find the stored record, take the current class of each of its
slots, hash them into the ETag; serve the LRU's body for that ETag, else
composite and encode it on a worker thread (numpy and deflate release the
GIL) so cached requests keep flowing while misses are encoded. Concurrent
misses of one ETag share one encode.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from seatmap.changefeed import EventFollower
from seatmap.context import ServiceContext
from seatmap.grid import Lod
from tileserver import compose, encode
from tileserver.cache import TileCache
from tileserver.errors import TileNotFound
from tileserver.etag import shared_etag, tile_etag
from tileserver.livestate import LiveState
from tileserver.pyramid import TileKey
from tileserver.pyramids import Pyramids
from tileserver.record import TileRecord

MEDIA_TYPES = {"png": "image/png", "webp": "image/webp"}
# Browsers revalidate every time (cheap 304s); a CDN may serve one state for a second.
LIVE_CACHE_CONTROL = "public, max-age=0, s-maxage=1, must-revalidate"
STATIC_CACHE_CONTROL = "public, max-age=3600"


@dataclass(frozen=True, slots=True)
class Tile:
    """An encoded tile, how it may be cached, and the status version it shows."""

    etag: str
    body: bytes
    media_type: str
    cache_control: str
    result: str  # hit | miss | shared
    lod: str
    follower: EventFollower | None = None  # None: the tile never changes with statuses
    version: int = 0


def encode_tile(record: TileRecord, slot_classes: np.ndarray, fmt: str) -> bytes:
    """Composite a stored record with live classes and encode it (no drawing).

    A solid record (one flat colour, nothing live) encodes as that flat tile.
    """
    if record.solid:
        return flat_tile(record.size_px, solid_color(record), fmt)
    return encode_scanlines(record, compose.scanlines(record, slot_classes), fmt)


def solid_color(record: TileRecord) -> tuple[int, int, int] | None:
    """The one colour of a solid record (None: transparent)."""
    if record.palette.shape[0] < 2:
        return None
    red, green, blue = (int(c) for c in record.palette[-1])
    return red, green, blue


def encode_scanlines(record: TileRecord, raw: np.ndarray, fmt: str) -> bytes:
    """Encode composited scanlines of a record as PNG or WebP."""
    size = record.size_px
    if fmt == "png":
        return encode.png_indexed(size, size, encode.palette_chunks(record.palette),
                                  raw.tobytes())
    indices = raw.reshape(size, size + 1)[:, 1:]
    return encode.webp(encode.palette_rgba(record.palette)[indices])


def flat_tile(size: int, color: tuple[int, int, int] | None, fmt: str) -> bytes:
    """A tile of one colour (None: transparent)."""
    if fmt == "png":
        palette = np.zeros((2, 3), np.uint8)
        index = 0
        if color is not None:
            palette[1], index = color, 1
        rows = np.full((size, size + 1), index, np.uint8)
        rows[:, 0] = 0
        return encode.png_indexed(size, size, encode.palette_chunks(palette), rows.tobytes())
    rgba = np.zeros((size, size, 4), np.uint8)
    if color is not None:
        rgba[..., :3], rgba[..., 3] = color, 255
    return encode.webp(rgba)


class TileSource:
    """Tiles of every event, from pre-rendered pyramids and live statuses."""

    def __init__(self, ctx: ServiceContext, pyramids: Pyramids, threads: int = 2) -> None:
        self.ctx = ctx
        self.pyramids = pyramids
        self.live = LiveState()
        self.cache = TileCache(ctx.settings.tile_cache_mb * 1024 * 1024)
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="tile-encode")
        self._inflight: dict[str, asyncio.Future[bytes]] = {}
        self._counters: dict[tuple[str, str], Any] = {}

    async def tile(self, event_id: int, key: TileKey, fmt: str) -> Tile:
        """The current tile of an event; raises NotFound for unknown events or zooms."""
        view = await self.ctx.catalog.get(event_id)
        grid = view.grid
        if not 0 <= key.z <= grid.max_zoom:
            raise TileNotFound(f"zoom {key.z} is outside 0..{grid.max_zoom}",
                               min_zoom=0, max_zoom=grid.max_zoom)
        side = 1 << key.z  # zoom 0 is one tile, so no zoom has more than 2^z per axis
        if not (0 <= key.x < side and 0 <= key.y < side):
            raise TileNotFound(f"tile {key.x},{key.y} is outside zoom {key.z} ({side} per axis)")
        lod = grid.lod(key.z).value
        if not grid.has_tile(key.z, key.x, key.y):
            return self._shared(key, None, fmt, "empty", lod)
        store = self.pyramids.cached(view.venue) or await self.pyramids.store(view.venue, grid)
        record = store.record(key)
        if record is None:
            return self._shared(key, None, fmt, "empty", lod)
        if record.solid:
            return self._shared(key, solid_color(record), fmt, "flat", lod)
        follower = await self.ctx.feed.follower(event_id)
        live = self.live.classes(event_id, view.venue, follower)
        classes = live.section_classes if grid.lod(key.z) is Lod.SECTION else live.seat_classes
        slot_classes = compose.slot_classes(record, classes)
        etag = tile_etag(view.venue.content_hash, key, fmt, slot_classes)
        body = self.cache.get(etag)
        result = "hit"
        if body is None:
            result = "miss"
            body = await self._encode(etag, record, slot_classes, fmt)
            store.release(key)
        self.counter(lod, result).inc()
        return Tile(etag, body, MEDIA_TYPES[fmt], LIVE_CACHE_CONTROL, result, lod, follower,
                    live.version)

    def counter(self, lod: str, result: str) -> Any:
        """The tile-request counter child of one LOD and result (looked up once)."""
        found = self._counters.get((lod, result))
        if found is None:
            found = self._counters[(lod, result)] = self.ctx.metrics.tile_requests.labels(
                lod, result)
        return found

    def _shared(
        self, key: TileKey, color: tuple[int, int, int] | None, fmt: str, kind: str, lod: str
    ) -> Tile:
        etag = shared_etag(kind, key.size_px, color, fmt)
        body = self.cache.get(etag)
        if body is None:
            body = flat_tile(key.size_px, color, fmt)
            self.cache.put(etag, body)
        self.counter(lod, "shared").inc()
        return Tile(etag, body, MEDIA_TYPES[fmt], STATIC_CACHE_CONTROL, "shared", lod)

    async def _encode(
        self, etag: str, record: TileRecord, slot_classes: np.ndarray, fmt: str
    ) -> bytes:
        pending = self._inflight.get(etag)
        if pending is not None:
            return await asyncio.shield(pending)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        self._inflight[etag] = future
        try:
            body = await loop.run_in_executor(self.executor, self._timed_encode, record,
                                              slot_classes, fmt)
            self.cache.put(etag, body)
            future.set_result(body)
            return body
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) re-raise it
            raise
        finally:
            self._inflight.pop(etag, None)

    def _timed_encode(self, record: TileRecord, slot_classes: np.ndarray, fmt: str) -> bytes:
        metrics = self.ctx.metrics
        started = time.perf_counter()
        raw = compose.scanlines(record, slot_classes)
        composed = time.perf_counter()
        body = encode_scanlines(record, raw, fmt)
        metrics.tile_compose_seconds.observe(composed - started)
        metrics.tile_encode_seconds.observe(time.perf_counter() - composed)
        return body

    async def close(self) -> None:
        """Stop the encoder threads."""
        self.executor.shutdown(wait=True, cancel_futures=True)
