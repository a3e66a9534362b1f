"""Open each venue's pre-rendered pyramid once per process; render missing ones.

A pyramid missing on disk (a venue imported without `seatmap render`) is
rendered in the background; requests wait a little for small venues and get
a 503 with Retry-After for large ones until it is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from seatmap.grid import TileGrid
from seatmap.model import Venue
from tileserver.errors import PyramidRendering
from tileserver.render.prerender import ensure_pyramid, is_rendered, pyramid_path
from tileserver.store import PyramidStore

log = logging.getLogger(__name__)

WAIT_FOR_RENDER_S = 10.0
RETRY_AFTER_S = 5


class Pyramids:
    """The open pyramid stores of this process, by venue content hash."""

    def __init__(self, tiles_dir: Path, workers: int = 2) -> None:
        self.tiles_dir = Path(tiles_dir)
        self.workers = workers
        self._stores: dict[str, PyramidStore] = {}
        self._renders: dict[str, asyncio.Task[Path]] = {}

    def cached(self, venue: Venue) -> PyramidStore | None:
        """The open store of a venue, if it is open already (no I/O)."""
        return self._stores.get(venue.content_hash)

    async def store(self, venue: Venue, grid: TileGrid) -> PyramidStore:
        """The venue's store, opening it or rendering it first when needed."""
        found = self._stores.get(venue.content_hash)
        if found is not None:
            return found
        if not is_rendered(venue, self.tiles_dir):
            await self._render(venue)
        found = self._stores.get(venue.content_hash)
        if found is None:
            found = PyramidStore(pyramid_path(venue, self.tiles_dir), grid)
            self._stores[venue.content_hash] = found
        return found

    async def _render(self, venue: Venue) -> None:
        task = self._renders.get(venue.content_hash)
        if task is None:
            log.info("pyramid of venue %r missing; rendering it", venue.name)
            task = asyncio.create_task(
                asyncio.to_thread(ensure_pyramid, venue, self.tiles_dir, self.workers, False)
            )
            self._renders[venue.content_hash] = task
            task.add_done_callback(lambda _t: self._renders.pop(venue.content_hash, None))
        try:
            await asyncio.wait_for(asyncio.shield(task), WAIT_FOR_RENDER_S)
        except TimeoutError:
            raise PyramidRendering(
                "the venue's tiles are being rendered; retry shortly", retry_after_s=RETRY_AFTER_S
            ) from None

    async def close(self) -> None:
        """Wait for background renders, then close every store."""
        for task in list(self._renders.values()):
            with contextlib.suppress(Exception):
                await task
        for store in self._stores.values():
            store.close()
        self._stores.clear()
