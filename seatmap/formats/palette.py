"""Colours: checking the ones files give, and default ones for sections and categories."""

from __future__ import annotations

import re

from seatmap.errors import VenueFormatError

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")

# Light, distinct fills for section backgrounds (seats are drawn on top).
SECTION_COLORS = (
    "#dce6f2",
    "#e8dff0",
    "#def0e3",
    "#f5ead6",
    "#f2dede",
    "#dff0f0",
)

# Category colours from most to least expensive; distinct for common colour blindness.
CATEGORY_COLORS = (
    "#b2182b",
    "#ef8a62",
    "#7b3294",
    "#2166ac",
    "#1b7837",
    "#8c6d31",
)


def normalize_color(value: str, path: str, default: str) -> str:
    """A colour as lower-case "#rrggbb" (or "#rrggbbaa"); "" and "none" give `default`."""
    text = value.strip()
    if text.lower() in ("", "none"):
        return default
    if text.lower() == "transparent":
        return "#00000000"
    if not _HEX.match(text):
        raise VenueFormatError(f"unsupported colour {value!r}; expected #rgb or #rrggbb", path=path)
    if len(text) == 4:
        text = "#" + "".join(c * 2 for c in text[1:])
    return text.lower()


def section_color(index: int) -> str:
    """A default background colour for the section with this index."""
    return SECTION_COLORS[index % len(SECTION_COLORS)]
