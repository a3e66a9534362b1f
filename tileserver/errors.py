"""Errors of the tile server; each maps to an HTTP status through `seatmap.errors`."""

from __future__ import annotations

from seatmap.errors import BadRequest, NotFound, SeatmapError, ServiceUnavailable


class TileError(SeatmapError):
    """Base of every error the tile server raises on purpose."""

    code = "tile_error"
    status_code = 400


class BadTileRequest(BadRequest):
    """A malformed tile path or query parameter."""

    code = "bad_request"


class TileNotFound(NotFound):
    """A zoom, tile, seat or section that the event's venue does not have."""

    code = "not_found"


class PyramidMissing(TileError):
    """The venue's pyramid has not been rendered (or was rendered by an older format)."""

    code = "pyramid_missing"
    status_code = 503


class PyramidRendering(ServiceUnavailable):
    """The venue's pyramid is being rendered right now; retry shortly."""

    code = "pyramid_rendering"
