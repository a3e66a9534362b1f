"""Content-addressed ETags: the same tile state gives the same tag in every process.

A tile's tag hashes the venue version (content hash), the tile's place and
density, the output format and the current class of every seat or section
in the tile (classes are what the pixels depend on, so a held seat turning
"confirming" does not invalidate anything). No process state is involved, so
any number of servers agree without talking to each other. The hashing itself
is `httpkit.conditional.content_etag`, shared by every ETag of the app.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from httpkit.conditional import content_etag
from tileserver.pyramid import TileKey

# Bump when the drawing or encoding changes, so old tags stop matching.
RENDER_VERSION = b"tiles-1"


def tile_etag(
    content_hash: str, key: TileKey, fmt: str, slot_classes: npt.NDArray[np.uint8]
) -> str:
    """The quoted strong ETag of one tile in one state."""
    place = f"{content_hash}/{key.z}/{key.x}/{key.y}@{key.density}.{fmt}".encode()
    return content_etag(RENDER_VERSION, place,
                        np.ascontiguousarray(slot_classes, dtype=np.uint8).tobytes())


def shared_etag(kind: str, *parts: object) -> str:
    """The ETag of a body shared by many tiles (flat colour, empty tile)."""
    return content_etag(RENDER_VERSION, repr((kind, *parts)).encode())


def rendered_etag(description: str, classes: npt.NDArray[np.uint8]) -> str:
    """The ETag of a picture drawn on request (static map, print) from its inputs."""
    return content_etag(RENDER_VERSION, description.encode(), classes.tobytes())
