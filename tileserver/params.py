"""Request parameters: parsed once by the declared models (`tileserver.models`), then
resolved against the venue (section names, seat labels) into small values.

A value of the wrong shape (non-ASCII digits, a bad box, an unknown format) is
a 400 naming the parameter; a well-formed one that names nothing is a 404; a
box whose corners are the wrong way round is a 422.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from httpkit.contract import EventPath, parse_params
from seatmap.errors import Unprocessable
from seatmap.model import Venue
from tileserver.errors import BadTileRequest, TileNotFound
from tileserver.models import (
    BoxQuery,
    MapQuery,
    PngMapQuery,
    PointQuery,
    PrintQuery,
    TilePath,
    WebpMapQuery,
)
from tileserver.pyramid import TileKey
from tileserver.render.geometry import Box

PAPER_PT = {"a4": (595.28, 841.89), "letter": (612.0, 792.0), "a3": (841.89, 1190.55)}
MAP_QUERIES: dict[str, type[MapQuery]] = {"png": PngMapQuery, "webp": WebpMapQuery}
MAX_HIGHLIGHTED = 1000
# "{y}.png", "{y}@2x.webp": ASCII digits only ([0-9] never matches other scripts' digits).
TILE_NAME = re.compile(r"(-?)([0-9]{1,10})(@2x)?\.(png|webp)")


def event_id_of(raw: str) -> int:
    """The event id of a path segment: ASCII digits within bigint range, else a 400."""
    return parse_params(EventPath, {"event_id": raw}, "path").event_id


def nonneg_int(raw: str, name: str) -> int:
    """A non-negative integer path segment (ASCII digits, below 2**31)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or int(raw) >= 2**31:
        raise BadTileRequest(f"{name} must be a non-negative integer, got {raw[:40]!r}",
                             field=name)
    return int(raw)


def tile_request(path: Mapping[str, str]) -> tuple[int, TileKey, str]:
    """Event id, tile key and format of a tile path; a negative coordinate is off the grid."""
    found = TILE_NAME.fullmatch(path["name"])
    if found is None:
        raise BadTileRequest(
            f"bad tile name {path['name'][:40]!r}: expected {{y}}.png, {{y}}@2x.png, "
            "{y}.webp or {y}@2x.webp", field="y")
    minus, y, density, fmt = found.groups()
    for name, raw in (("z", path["z"]), ("x", path["x"]), ("y", minus + y)):
        digits = raw.removeprefix("-")
        if raw.startswith("-") and digits.isascii() and digits.isdigit():
            raise TileNotFound(f"{name}={raw} is outside the tile grid")
    tile = parse_params(TilePath, {**path, "y": y}, "path")
    return tile.event_id, TileKey(tile.z, tile.x, tile.y, 2 if density else 1), fmt


def point(query: Mapping[str, str]) -> PointQuery:
    """The point and optional radius of a nearest-seat query."""
    return parse_params(PointQuery, query, "query")


def bbox(raw: str | None, venue: Venue) -> Box | None:
    """"x0,y0,x1,y1" in venue units, with x0 < x1 and y0 < y1; None when absent."""
    text = parse_params(BoxQuery, {} if raw is None else {"bbox": raw}, "query").bbox
    if text is None:
        return None
    x0, y0, x1, y1 = (float(p) for p in text.split(","))
    if x0 >= x1 or y0 >= y1:
        raise Unprocessable("bbox needs x0 < x1 and y0 < y1", field="bbox")
    return (x0, y0, x1, y1)


def section_index(raw: str | None, venue: Venue) -> int | None:
    """A section given by name, external id or index; None when absent."""
    if raw is None or raw == "":
        return None
    for section in venue.sections:
        if raw in (section.name, section.external_id):
            return section.index
    if raw.isascii() and raw.isdigit() and int(raw) < len(venue.sections):
        return int(raw)
    raise TileNotFound(f"section {raw[:100]!r} does not exist", field="section")


def highlight(raw: str | None, venue: Venue) -> frozenset[int]:
    """Seats named by external id or full label ("112-F-7"), comma separated."""
    if raw is None or raw == "":
        return frozenset()
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if len(names) > MAX_HIGHLIGHTED:
        raise BadTileRequest(f"highlight names at most {MAX_HIGHLIGHTED} seats",
                             field="highlight")
    found: set[int] = set()
    unknown: list[str] = []
    for name in names:
        index = venue.seat_index_of(name)
        if index is None:
            unknown.append(name[:100])
        else:
            found.add(index)
    if unknown:
        raise Unprocessable(f"no such seats: {', '.join(unknown[:20])}", field="highlight",
                            unknown=unknown[:100])
    return frozenset(found)


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
    """Parse and check a static map query for `map.{fmt}` (W and H up to 4096 px)."""
    q = parse_params(MAP_QUERIES[fmt], query, "query")
    return MapParams(q.width, q.height, q.scale, fmt, section_index(q.section, venue),
                     bbox(q.bbox, venue), highlight(q.highlight, venue))


@dataclass(frozen=True, slots=True)
class PrintParams:
    """Print request: paper, orientation, what to show, highlighted seats, title."""

    paper: str
    landscape: bool
    section: int | None
    box: Box | None
    highlight: frozenset[int]
    title: str | None
    sections: tuple[int, ...] = ()  # the booklet's section pages; all when empty

    @property
    def page_pt(self) -> tuple[float, float]:
        """Page width and height in points."""
        w, h = PAPER_PT[self.paper]
        return (h, w) if self.landscape else (w, h)


def print_params(query: Mapping[str, str], venue: Venue) -> PrintParams:
    """Parse and check a print (PDF/SVG) query."""
    q = parse_params(PrintQuery, query, "query")
    sections = tuple(dict.fromkeys(
        section_index(name.strip(), venue) for name in (q.sections or "").split(",")
        if name.strip()))
    return PrintParams(q.paper, q.orientation == "landscape", section_index(q.section, venue),
                       bbox(q.bbox, venue), highlight(q.highlight, venue), q.title,
                       tuple(s for s in sections if s is not None))
