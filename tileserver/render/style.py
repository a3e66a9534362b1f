"""Colours and shapes of everything drawn, in one place.

Seats are drawn by status, so that status never depends on colour alone:

- available: a filled disc in its category colour;
- held (and confirming): a ring in the held colour with a white centre;
- sold: a small dark dot;
- blocked: a pale disc with a dark centre dot.

Accessible places sit on a blue rounded square (static, drawn in the base).
At section level of detail a section is filled by its share of available
seats on a light ramp, so the dark section names stay readable on every step.

A "seat class" is what a seat's pixels depend on: available-in-category c
(c = 0..ncat-1) or one of the three unavailable looks (ncat+0..ncat+2). A
"section class" is a ramp bucket. Both are one byte per seat or section.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from seatmap.formats.palette import RGBA as RGBA
from seatmap.formats.palette import parse_css_color
from seatmap.model import Venue
from seatmap.status import SeatStatus

RGB = tuple[int, int, int]
FALLBACK = (128, 128, 128, 255)  # for a colour string that is none

BACKGROUND = "#f6f8fa"  # venue canvas
SECTION_OUTLINE = "#8c959f"
SECTION_NAME = "#1f2328"
ROW_LABEL = "#424a53"
HELD = "#bc4c00"  # 5.2:1 on white
HELD_CENTRE = "#ffffff"
SOLD = "#424a53"  # 8.6:1 on white
BLOCKED_DISC = "#c9d1d9"
BLOCKED_DOT = "#57606a"
ACCESSIBLE = "#0969da"  # 4.9:1 on white
HIGHLIGHT = "#d4007f"  # "your seats" in static maps
HIGHLIGHT_RING = "#ffffff"
SEAT_TEXT_DARK = "#1f2328"
SEAT_TEXT_LIGHT = "#ffffff"

# Radius of the centre dot / ring hole, as a share of the seat radius.
INNER_RATIO = 0.6
# Accessible marker: a rounded square this much wider than the disc.
ACCESSIBLE_PAD_PX = 1.5

# Section availability ramp: bucket k covers shares in (EDGES[k-1], EDGES[k]].
RAMP_EDGES = (0.0, 0.1, 0.3, 0.6, 0.9, 1.0)
RAMP_COLORS = ("#d0d7de", "#ffcfb3", "#ffe9a3", "#d3f0b0", "#a8e0a0", "#7fcf8a")
RAMP_LABELS = ("sold out", "under 10%", "10-30%", "30-60%", "60-90%", "over 90%")
SECTION_CLASS_COUNT = len(RAMP_COLORS)

HELD_OFFSET, SOLD_OFFSET, BLOCKED_OFFSET = 0, 1, 2
UNAVAILABLE_CLASSES = 3


@lru_cache(maxsize=1024)
def rgba(color: str) -> RGBA:
    """A venue or CSS colour string as (r, g, b, alpha) bytes; grey if it is none.

    Areas, their text and sections are drawn with this alpha.
    """
    return parse_css_color(color) or FALLBACK


def rgb(color: str) -> RGB:
    """A colour string as an opaque (r, g, b): seats are drawn opaque whatever their alpha."""
    r, g, b, _ = rgba(color)
    return (r, g, b)


def relative_luminance(color: RGB) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour."""

    def channel(c: int) -> float:
        s = c / 255.0
        return s / 12.92 if s <= 0.03928 else float(((s + 0.055) / 1.055) ** 2.4)

    r, g, b = color
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio between two colours (1..21)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def text_on(color: RGB) -> RGB:
    """Dark or light text, whichever contrasts more with `color`."""
    dark, light = rgb(SEAT_TEXT_DARK), rgb(SEAT_TEXT_LIGHT)
    return dark if contrast_ratio(dark, color) >= contrast_ratio(light, color) else light


@dataclass(frozen=True, slots=True)
class ClassLook:
    """How one seat or section class paints a pixel.

    `outer` is drawn with the outer coverage, `inner` replaces it within the
    inner disc; `inner_only` draws nothing outside the inner disc (sold);
    `text` colours seat numbers, or None for no number.
    """

    outer: RGB
    inner: RGB
    inner_only: bool
    text: RGB | None


def seat_class_count(venue: Venue) -> int:
    """Number of seat classes of a venue: its categories plus three unavailable looks."""
    return len(venue.categories) + UNAVAILABLE_CLASSES


def seat_looks(venue: Venue) -> list[ClassLook]:
    """The look of every seat class, indexed by class."""
    looks = []
    for cat in venue.categories:
        color = rgb(cat.color)
        looks.append(ClassLook(color, color, False, text_on(color)))
    looks.append(ClassLook(rgb(HELD), rgb(HELD_CENTRE), False, rgb(HELD)))
    looks.append(ClassLook(rgb(SOLD), rgb(SOLD), True, None))
    looks.append(ClassLook(rgb(BLOCKED_DISC), rgb(BLOCKED_DOT), False, None))
    return looks


def section_looks() -> list[ClassLook]:
    """The look of every section class (ramp bucket), indexed by class."""
    return [ClassLook(rgb(c), rgb(c), False, rgb(SECTION_NAME)) for c in RAMP_COLORS]


def seat_classes(
    venue: Venue, statuses: npt.NDArray[np.uint8]
) -> npt.NDArray[np.uint8]:
    """Map every seat's status byte to its seat class."""
    ncat = len(venue.categories)
    lut = np.full(256, ncat + BLOCKED_OFFSET, dtype=np.int16)
    lut[SeatStatus.AVAILABLE] = -1
    lut[SeatStatus.HELD] = ncat + HELD_OFFSET
    lut[SeatStatus.CONFIRMING] = ncat + HELD_OFFSET
    lut[SeatStatus.SOLD] = ncat + SOLD_OFFSET
    lut[SeatStatus.BLOCKED] = ncat + BLOCKED_OFFSET
    mapped = lut[statuses]
    out = np.where(mapped < 0, venue.seats.category, mapped)
    return out.astype(np.uint8)


def ramp_bucket(share: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    """The ramp bucket of each share of available seats (0 = sold out)."""
    buckets = np.searchsorted(np.asarray(RAMP_EDGES[1:-1]), share, side="left") + 1
    buckets = np.where(share <= 0.0, 0, buckets)
    return np.clip(buckets, 0, SECTION_CLASS_COUNT - 1).astype(np.uint8)


def section_classes(
    venue: Venue, statuses: npt.NDArray[np.uint8]
) -> npt.NDArray[np.uint8]:
    """Each section's ramp bucket from the share of its seats that are available."""
    sections = len(venue.sections)
    available = np.bincount(
        venue.seats.section[statuses == SeatStatus.AVAILABLE], minlength=sections
    )
    totals = np.maximum(venue.section_seat_counts, 1)
    return ramp_bucket(available[:sections] / totals)


def legend(venue: Venue) -> list[dict[str, object]]:
    """Legend entries: what each look means, for TileJSON, print and the viewer."""
    entries: list[dict[str, object]] = [
        {"kind": "category", "label": c.name, "color": c.color, "shape": "disc",
         "price_cents": c.price_cents}
        for c in venue.categories
    ]
    entries += [
        {"kind": "status", "label": "held", "color": HELD, "shape": "ring"},
        {"kind": "status", "label": "sold", "color": SOLD, "shape": "dot"},
        {"kind": "status", "label": "blocked", "color": BLOCKED_DISC, "shape": "disc-dot",
         "dot_color": BLOCKED_DOT},
        {"kind": "marker", "label": "accessible", "color": ACCESSIBLE, "shape": "square"},
    ]
    entries += [
        {"kind": "availability", "label": label, "color": color, "shape": "fill"}
        for label, color in zip(RAMP_LABELS, RAMP_COLORS, strict=True)
    ]
    return entries
