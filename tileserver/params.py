"""Request parameters: parsed and checked once, as small values, with 4xx errors."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from seatmap.model import Venue
from tileserver.errors import BadTileRequest, TileNotFound
from tileserver.render.geometry import Box

MAX_MAP_PX = 4096
PAPER_PT = {"a4": (595.28, 841.89), "letter": (612.0, 792.0)}


def event_id_of(raw: str) -> int:
    """The integer event id of a path segment; anything else is an unknown event."""
    if not raw.isdigit() or len(raw) > 18:
        raise TileNotFound(f"event {raw!r} does not exist")
    return int(raw)


def nonneg_int(raw: str, name: str) -> int:
    """A non-negative integer path segment or query value."""
    if not raw.isdigit() or len(raw) > 9:
        raise BadTileRequest(f"{name} must be a non-negative integer, got {raw!r}", field=name)
    return int(raw)


def number(query: Mapping[str, str], name: str, default: float | None = None) -> float:
    """A finite float query parameter (required when no default)."""
    raw = query.get(name)
    if raw is None or raw == "":
        if default is None:
            raise BadTileRequest(f"query parameter {name!r} is required", field=name)
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadTileRequest(f"{name} must be a number, got {raw!r}", field=name) from None
    if not math.isfinite(value):
        raise BadTileRequest(f"{name} must be finite", field=name)
    return value


def bbox(raw: str | None, venue: Venue) -> Box | None:
    """"x0,y0,x1,y1" in venue units, with x0 < x1 and y0 < y1; None when absent."""
    if raw is None or raw == "":
        return None
    parts = raw.split(",")
    if len(parts) != 4:
        raise BadTileRequest("bbox must be x0,y0,x1,y1", field="bbox")
    try:
        x0, y0, x1, y1 = (float(p) for p in parts)
    except ValueError:
        raise BadTileRequest("bbox values must be numbers", field="bbox") from None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x0 >= x1 or y0 >= y1:
        raise BadTileRequest("bbox needs finite x0 < x1 and y0 < y1", field="bbox")
    return (x0, y0, x1, y1)


def section_index(raw: str | None, venue: Venue) -> int | None:
    """A section given by name, external id or index; None when absent."""
    if raw is None or raw == "":
        return None
    for section in venue.sections:
        if raw in (section.name, section.external_id):
            return section.index
    if raw.isdigit() and int(raw) < len(venue.sections):
        return int(raw)
    raise TileNotFound(f"section {raw!r} does not exist", field="section")


def highlight(raw: str | None, venue: Venue) -> frozenset[int]:
    """Seats named by external id or full label ("112-F-7"), comma separated."""
    if raw is None or raw == "":
        return frozenset()
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if len(names) > 1000:
        raise BadTileRequest("highlight names at most 1000 seats", field="highlight")
    found: set[int] = set()
    for name in names:
        index = venue.seat_index_of(name)
        if index is None:
            raise TileNotFound(f"seat {name!r} does not exist", field="highlight", seat=name)
        found.add(index)
    return frozenset(found)


def choice(query: Mapping[str, str], name: str, options: tuple[str, ...], default: str) -> str:
    """One of a fixed set of values (case-insensitive)."""
    raw = (query.get(name) or default).lower()
    if raw not in options:
        raise BadTileRequest(f"{name} must be one of {', '.join(options)}", field=name)
    return raw


@dataclass(frozen=True, slots=True)
class MapParams:
    """Static map request: output size, what to show, highlighted seats."""

    width: int
    height: int
    scale: int
    fmt: str
    section: int | None
    box: Box | None
    highlight: frozenset[int]


def map_params(query: Mapping[str, str], venue: Venue, fmt: str) -> MapParams:
    """Parse and check a static map query (W and H up to 4096 px)."""
    width = nonneg_int(query.get("width", "800"), "width")
    height = nonneg_int(query.get("height", "600"), "height")
    if not (1 <= width <= MAX_MAP_PX and 1 <= height <= MAX_MAP_PX):
        raise BadTileRequest(f"width and height must be 1..{MAX_MAP_PX}",
                             width=width, height=height)
    scale = nonneg_int(query.get("scale", "1"), "scale")
    if scale not in (1, 2):
        raise BadTileRequest("scale must be 1 or 2", field="scale")
    if width * scale > 2 * MAX_MAP_PX or height * scale > 2 * MAX_MAP_PX:
        raise BadTileRequest("width and height times scale are too large", field="scale")
    fmt = choice(query, "format", ("png", "webp"), fmt)
    return MapParams(width, height, scale, fmt, section_index(query.get("section"), venue),
                     bbox(query.get("bbox"), venue), highlight(query.get("highlight"), venue))


@dataclass(frozen=True, slots=True)
class PrintParams:
    """Print request: paper, orientation, what to show, highlighted seats, title."""

    paper: str
    landscape: bool
    section: int | None
    box: Box | None
    highlight: frozenset[int]
    title: str | None

    @property
    def page_pt(self) -> tuple[float, float]:
        """Page width and height in points."""
        w, h = PAPER_PT[self.paper]
        return (h, w) if self.landscape else (w, h)


def print_params(query: Mapping[str, str], venue: Venue) -> PrintParams:
    """Parse and check a print (PDF/SVG) query."""
    paper = choice(query, "paper", tuple(PAPER_PT), "a4")
    orientation = choice(query, "orientation", ("portrait", "landscape"), "landscape")
    title = query.get("title")
    if title is not None and len(title) > 200:
        raise BadTileRequest("title is limited to 200 characters", field="title")
    return PrintParams(
        paper,
        orientation == "landscape",
        section_index(query.get("section"), venue),
        bbox(query.get("bbox"), venue),
        highlight(query.get("highlight"), venue),
        title,
    )
