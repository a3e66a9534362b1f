"""Content-addressed ETags: the same tile state gives the same tag in every process.

A tile's tag hashes the venue version (content hash), the tile's place and
density, the output format and the current class of every seat or section
in the tile (classes are what the pixels depend on, so a held seat turning
"confirming" does not invalidate anything). No process state is involved, so
any number of servers agree without talking to each other.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

from tileserver.pyramid import TileKey

# Bump when the drawing or encoding changes, so old tags stop matching.
RENDER_VERSION = b"tiles-1"


def tile_etag(
    content_hash: str, key: TileKey, fmt: str, slot_classes: npt.NDArray[np.uint8]
) -> str:
    """The quoted strong ETag of one tile in one state."""
    digest = hashlib.blake2b(RENDER_VERSION, digest_size=12)
    digest.update(f"{content_hash}/{key.z}/{key.x}/{key.y}@{key.density}.{fmt}".encode())
    digest.update(np.ascontiguousarray(slot_classes, dtype=np.uint8).tobytes())
    return f'"{digest.hexdigest()}"'


def shared_etag(kind: str, *parts: object) -> str:
    """The ETag of a body shared by many tiles (flat colour, empty tile)."""
    digest = hashlib.blake2b(RENDER_VERSION, digest_size=12)
    digest.update(repr((kind, *parts)).encode())
    return f'"{digest.hexdigest()}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """True when an If-None-Match header value names this ETag (or is "*")."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag or tag == "*":
            return True
    return False
