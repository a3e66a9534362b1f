"""The tile service's parts apart from HTTP: pyramids, live tiles, static maps, print.

`TileEngine(ctx)` holds the state the routes share; `startup`/`shutdown` manage
its worker threads. It never writes availability; it reads the statuses the
change feed keeps current.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import orjson

from httpkit.conditional import content_etag
from seatmap.context import EventView, ServiceContext
from seatmap.model import Venue
from tileserver.etag import rendered_etag
from tileserver.hot import HotTiles
from tileserver.livestate import LiveClasses
from tileserver.mapoutputs import is_your_seats, render_output
from tileserver.params import map_params, print_params
from tileserver.pyramids import Pyramids
from tileserver.render.scene import Scene
from tileserver.tilejson import tilejson
from tileserver.tiles import TileSource

ENCODE_THREADS = 2
NO_CLASSES = np.zeros(0, dtype=np.uint8)


def release_memory() -> None:
    """Hand the heap a large render freed back to the OS (glibc; a no-op elsewhere)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class TileEngine:
    """The state every tile-server route shares: stores, caches, worker threads."""

    def __init__(self, ctx: ServiceContext, hot: HotTiles | None = None) -> None:
        self.ctx = ctx
        # Filled by the tile route; served before routing by HotTileMiddleware, if installed.
        self.hot = hot if hot is not None else HotTiles()
        self.pyramids = Pyramids(ctx.settings.tiles_dir)
        self.tiles = TileSource(ctx, self.pyramids, threads=ENCODE_THREADS)
        self._maps = ThreadPoolExecutor(1, thread_name_prefix="static-map")
        self._scenes: dict[str, Scene] = {}

    async def startup(self) -> None:
        """Nothing to start: pyramids open and events are followed on first use."""

    async def shutdown(self) -> None:
        """Stop worker threads and close the pyramid files."""
        self.hot.clear()
        await self.tiles.close()
        self._maps.shutdown(wait=True, cancel_futures=True)
        await self.pyramids.close()

    async def live(self, event_id: int) -> tuple[EventView, LiveClasses, str]:
        """The event, its current classes and the change-log id they are current to."""
        view = await self.ctx.catalog.get(event_id)
        follower = await self.ctx.feed.follower(event_id)
        live = self.tiles.live.classes(event_id, view.venue, follower)
        return view, live, follower.last_id

    async def tilejson(self, event_id: int, base_url: str) -> tuple[bytes, str]:
        """The event's TileJSON body and ETag."""
        view = await self.ctx.catalog.get(event_id)
        body = orjson.dumps(tilejson(view, base_url))
        return body, content_etag(body)

    def _scene(self, venue: Venue) -> Scene:
        found = self._scenes.get(venue.content_hash)
        if found is None:
            found = self._scenes[venue.content_hash] = Scene(venue)
        return found

    async def static_map(self, event_id: int, fmt: str, query: dict[str, str]) -> tuple[
            bytes, str, str]:
        """A static map (png/webp) or print page (pdf/svg): body, ETag and format."""
        view, live, _ = await self.live(event_id)
        venue = view.venue
        if fmt in ("pdf", "svg"):
            pp = print_params(query, venue)
            key = repr(("print", fmt, pp))
            out_fmt = fmt
        else:
            mp = map_params(query, venue, fmt)
            key = repr(("map", mp))
            out_fmt = mp.fmt

        # The "your seats" image shows no live status, so its ETag does not follow them.
        shown = NO_CLASSES if fmt not in ("pdf", "svg") and is_your_seats(mp) else live.seat_classes
        etag = rendered_etag(f"{venue.content_hash}/{view.event.id}/{view.event.title}/{key}",
                             shown)
        body = self.tiles.cache.get(etag)
        if body is None:
            scene = self._scene(venue)
            loop = asyncio.get_running_loop()
            params = pp if fmt in ("pdf", "svg") else mp
            body = await loop.run_in_executor(
                self._maps, render_output, scene, view, live, params, fmt)
            if fmt in ("pdf", "svg"):
                await loop.run_in_executor(self._maps, release_memory)
            self.tiles.cache.put(etag, body)
        return body, etag, out_fmt
