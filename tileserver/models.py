"""The tile service's contract: path and query parameters and JSON replies, as msgspec types.

`tileserver.params` parses requests with these types and `tileserver.operations`
declares every route with them, which is what `/openapi.json` documents.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from httpkit.contract import PRINTABLE_PATTERN, Id, NonNegative

MAX_MAP_PX = 4096
# Query values are bounded so that a whole URL stays within what HTTP servers read.
MAX_HIGHLIGHT_CHARS = 500
MAX_PLACES = 100
# Venue coordinates are bounded well inside float32's exact range.
Coordinate = Annotated[float, Meta(ge=-1e9, le=1e9)]
# Plain decimals within a billion venue units: no exponent, so never infinite.
BBOX_NUMBER = r"-?[0-9]{1,9}(\.[0-9]{1,9})?"
BBOX_PATTERN = rf"^{BBOX_NUMBER}(,{BBOX_NUMBER}){{3}}$"
Bbox = Annotated[
    str,
    Meta(pattern=BBOX_PATTERN, max_length=200,
         description="x0,y0,x1,y1 in venue units, with x0 < x1 and y0 < y1."),
]
Section = Annotated[str, Meta(min_length=1, max_length=100,
                              description="Only this section (name, id or index).")]
Highlight = Annotated[str, Meta(max_length=MAX_HIGHLIGHT_CHARS,
                                description="Comma-separated seat ids or labels to mark.")]
SeatList = Annotated[str, Meta(pattern=r"^[0-9]{1,9}(,[0-9]{1,9}){0,99}$",
                               description="1-100 comma-separated seat indices.")]


class TilePath(Struct):
    """A tile: event, zoom and column, and the row in the file name."""

    event_id: Id
    z: NonNegative
    x: NonNegative
    y: NonNegative


class SeatPath(Struct):
    """One seat by index."""

    event_id: Id
    seat_index: NonNegative


class SectionPath(Struct):
    """One section by index."""

    event_id: Id
    section: NonNegative


class Shown(Struct, kw_only=True):
    """What a map or print shows: a section or a box, and seats to mark."""

    section: Section | None = None
    bbox: Bbox | None = None
    highlight: Highlight | None = None


class MapQuery(Shown, kw_only=True):
    """A static map: size in CSS pixels, pixel density, and what to show."""

    width: Annotated[int, Meta(ge=1, le=MAX_MAP_PX)] = 800
    height: Annotated[int, Meta(ge=1, le=MAX_MAP_PX)] = 600
    scale: Literal[1, 2] = 1
    format: Literal["png", "webp"] | None = None


class PngMapQuery(MapQuery, kw_only=True):
    """A PNG map: `format`, when given, must agree with the extension."""

    format: Literal["png"] | None = None


class WebpMapQuery(MapQuery, kw_only=True):
    """A WebP map: `format`, when given, must agree with the extension."""

    format: Literal["webp"] | None = None


class PrintQuery(Shown, kw_only=True):
    """A print page (PDF or SVG): paper, orientation, title, what to show."""

    paper: Literal["a4", "letter", "a3"] = "a4"
    orientation: Literal["portrait", "landscape"] = "landscape"
    title: Annotated[str, Meta(max_length=200, pattern=PRINTABLE_PATTERN)] | None = None
    sections: Annotated[str, Meta(min_length=1, max_length=2000, description=(
        "PDF booklet: only these sections' pages (comma-separated names, ids or indices)."
    ))] | None = None


class BoxQuery(Struct):
    """Only the seats in a box (every seat when absent)."""

    bbox: Bbox | None = None


class PointQuery(Struct):
    """A point in venue units and a search radius (a seat's diameter when absent)."""

    x: Coordinate
    y: Coordinate
    r: Annotated[float, Meta(gt=0, le=1e9)] | None = None


class PlacesQuery(Struct):
    """Seats to locate."""

    seats: SeatList


class SeatInfo(Struct):
    """Everything about one seat a buyer needs, with its current status."""

    index: int
    id: str
    label: str
    section: str
    row: str
    seat: str
    category: str
    category_index: int
    color: str
    price_cents: int
    status: str
    accessible: bool
    seat_type: str
    x: float
    y: float
    radius: float


class TileCategory(Struct):
    """A seat category: colour and price."""

    index: int
    id: str
    name: str
    color: str
    price_cents: int


class TileJSON(Struct, forbid_unknown_fields=False):
    """TileJSON 3.0.0 of the event, plus what the viewer needs (see docs/tiles.md)."""

    tilejson: str
    name: str
    scheme: Literal["xyz"]
    tiles: list[str]
    minzoom: int
    maxzoom: int
    bounds: Annotated[list[float], Meta(min_length=4, max_length=4)]
    center: Annotated[list[float], Meta(min_length=3, max_length=3)]
    tile_size: int
    tile_templates: dict[str, str]
    seat_count: int
    event_id: int
    content_hash: str
    categories: list[TileCategory]
    statuses: dict[str, int]
    status_colors: dict[str, str]


class SectionOutline(Struct):
    """A section with its bounds and outline polygon ([[x, y], ...]) in venue units and
    the price categories of its seats."""

    index: int
    name: str
    bounds: list[float]
    seat_count: int
    categories: list[int] = []
    outline: list[list[float]] = []


class Sections(Struct):
    """The venue's size and every section."""

    width: float
    height: float
    sections: list[SectionOutline]


class Row(Struct):
    """A row's label and its seats: [index, label, x, y, radius, category, flags] each."""

    label: str
    seats: list[list[Any]]


class SectionRows(Struct):
    """A section's rows in order."""

    index: int
    name: str
    rows: list[Row]


Places = list[Annotated[list[float], Meta(description="[index, x, y, radius]")]]


class MapJsonQuery(Struct):
    """The seats a "your seats" image shows."""

    highlight: Annotated[str, Meta(min_length=1, max_length=MAX_HIGHLIGHT_CHARS,
                                   description="Comma-separated seat ids or labels.")]


class DescribedSeat(Struct):
    """One of the buyer's seats, by its parts."""

    id: str
    label: str
    section: str
    row: str
    seat: str


class MapDescription(Struct):
    """What a "your seats" image shows, in words: the `alt` text of its `<img>`."""

    alt: str
    seats: list[DescribedSeat]
    image: str
