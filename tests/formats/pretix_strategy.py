"""Hypothesis strategies for pretix seating plans, written from pretix's published schema.

What the schema says a plan is (`seating-plan.schema.json`, draft-07):

- plan: `name` (string), `categories`, `zones` (required), `size` {width, height: integers};
- category: `name` (required), `color` (string);
- zone: `position` and `rows` (required), `name`, `zone_id`, `uuid`, `areas`;
- row: `row_number` and `seats` (required), `row_label`/`seat_label` (string or null),
  `uuid`, `row_number_position` ("start", "end", "both" or null), `position`;
- seat: `seat_guid`, `seat_number`, `position`, `category` (required), `uuid`,
  `start_direction` (string or null), `radius` (integer, default 10);
- area (nothing required): `color`, `border_color`, `rotation` (number, clockwise about
  `position`), `position`, `uuid`, `shape` (polygon, rectangle, ellipse, circle, text) and
  one object per shape: `polygon` {points}, `rectangle` {width, height: integers},
  `ellipse` {radius: position}, `circle` {radius: integer},
  `text` {text, position (required), color, size: integer (default 16)};
- position: {x, y} numbers. No object allows fields beyond these.

Plans drawn here use every optional field present or absent, colours of every CSS
syntax (each with the (r, g, b, alpha) it means, worked out here independently of
the reader), seat guids drawn from a small pool so that zones repeat each other's,
and rows and zones laid out at any angle. Positions are whole numbers or halves, so
that float32 venue coordinates hold them exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

RGBA = tuple[int, int, int, int]

# A few named colours and their values, from the CSS colour table.
NAMED: dict[str, RGBA] = {
    "red": (255, 0, 0, 255),
    "navy": (0, 0, 128, 255),
    "teal": (0, 128, 128, 255),
    "gold": (255, 215, 0, 255),
    "grey": (128, 128, 128, 255),
    "rebeccapurple": (102, 51, 153, 255),
    "transparent": (0, 0, 0, 0),
}
# Hues of the pure colours: hsl(h 100% 50%) and hwb(h 0% 0%) are exactly these.
PURE_HUES: dict[int, tuple[int, int, int]] = {
    0: (255, 0, 0), 60: (255, 255, 0), 120: (0, 255, 0),
    180: (0, 255, 255), 240: (0, 0, 255), 300: (255, 0, 255),
}
SHAPES = ("rectangle", "circle", "ellipse", "polygon", "text")


@dataclass
class Plan:
    """A drawn plan and what it means: the colour of every colour string in it."""

    doc: dict[str, Any]
    colors: dict[str, RGBA] = field(default_factory=dict)


def _byte(share: float) -> int:
    return math.floor(share * 255 + 0.5)


@st.composite
def css_colors(draw: st.DrawFn) -> tuple[str, RGBA]:
    """A CSS colour string of any syntax, and the (r, g, b, alpha) it stands for."""
    syntax = draw(st.sampled_from(
        ["named", "hex3", "hex4", "hex6", "hex8", "rgb", "rgba", "rgb%", "rgb/", "hsl", "hwb"]))
    byte = st.integers(0, 255)
    nibble = st.integers(0, 15)
    percent = st.integers(0, 100)
    if syntax == "named":
        name = draw(st.sampled_from(sorted(NAMED)))
        upper = draw(st.booleans())
        return (name.upper() if upper else name), NAMED[name]
    if syntax in ("hex3", "hex4"):
        n = [draw(nibble) for _ in range(int(syntax[-1]))]
        text = "#" + "".join(f"{v:x}" for v in n)
        r, g, b, a = [v * 17 for v in n] + [255] * (4 - len(n))
        return text, (r, g, b, a)
    r, g, b = draw(byte), draw(byte), draw(byte)
    if syntax == "hex6":
        return f"#{r:02x}{g:02X}{b:02x}", (r, g, b, 255)
    if syntax == "hex8":
        a = draw(byte)
        return f"#{r:02x}{g:02x}{b:02x}{a:02x}", (r, g, b, a)
    if syntax == "rgb":
        return f"rgb({r}, {g}, {b})", (r, g, b, 255)
    p = draw(percent)
    if syntax == "rgba":
        return f"rgba({r},{g},{b},{p / 100:g})", (r, g, b, _byte(p / 100))
    if syntax == "rgb/":
        return f"rgb({r} {g} {b} / {p}%)", (r, g, b, _byte(p / 100))
    if syntax == "rgb%":
        pr, pg, pb = draw(percent), draw(percent), draw(percent)
        shares = (_byte(pr / 100), _byte(pg / 100), _byte(pb / 100))
        return f"rgb({pr}%, {pg}%, {pb}%)", (*shares, 255)
    hue = draw(st.sampled_from(sorted(PURE_HUES)))
    unit, value = draw(st.sampled_from([("", hue), ("deg", hue), ("turn", hue / 360)]))
    alpha = f" / {p}%" if draw(st.booleans()) else ""
    expected = (*PURE_HUES[hue], _byte(p / 100) if alpha else 255)
    if syntax == "hsl":
        return f"hsl({value:g}{unit} 100% 50%{alpha})", expected
    return f"hwb({value:g}{unit} 0% 0%{alpha})", expected


def _half() -> st.SearchStrategy[float]:
    return st.integers(-400, 2400).map(lambda v: v / 2)


def _position(draw: st.DrawFn) -> dict[str, float]:
    return {"x": draw(_half()), "y": draw(_half())}


def _maybe(draw: st.DrawFn, out: dict[str, Any], key: str, values: st.SearchStrategy[Any]) -> None:
    if draw(st.booleans()):
        out[key] = draw(values)


def _colour(draw: st.DrawFn, plan: Plan) -> str:
    text, rgba = draw(css_colors())
    plan.colors[text] = rgba
    return text


@st.composite
def pretix_plans(draw: st.DrawFn, max_zones: int = 3, max_rows: int = 3,
                 tidy: bool = False) -> Plan:
    """A seating plan that pretix's schema accepts, with the meaning of its colours.

    `tidy` plans also meet the native format's rules: labels are not empty and
    are unique in their row or section, and categories have names.
    """
    plan = Plan({"name": draw(st.text(max_size=12))})
    pool = ["Parkett", "Balkon", "Loge", "VIP"] + ([] if tidy else [""])
    names = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4))
    categories = []
    for name in names:
        category: dict[str, Any] = {"name": name}
        if draw(st.booleans()):
            category["color"] = _colour(draw, plan)
        categories.append(category)
    plan.doc["categories"] = categories
    zones: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, max_zones))):
        zone: dict[str, Any] = {"position": _position(draw), "rows": []}
        for key in ("name", "zone_id", "uuid"):
            _maybe(draw, zone, key, st.text(min_size=1, max_size=8))
        turn = math.radians(draw(st.sampled_from([0, 30, 90, 135, 180, 270, 315])))
        for r in range(draw(st.integers(0 if zones else 1, max_rows))):
            zone["rows"].append(_row(draw, r, turn, names, tidy))
        if draw(st.booleans()):
            zone["areas"] = [_area(draw, plan) for _ in range(draw(st.integers(0, 3)))]
        zones.append(zone)
    plan.doc["zones"] = zones
    if draw(st.booleans()):
        plan.doc["size"] = {"width": draw(st.integers(-10, 3000)),
                            "height": draw(st.integers(-10, 3000))}
    return plan


def _row(draw: st.DrawFn, index: int, zone_turn: float, categories: list[str],
         tidy: bool) -> dict[str, Any]:
    """A row of seats spaced along a line at any angle, the zone's turn added."""
    labels = [str(index + 1)] + ([] if tidy else ["A", "", "AA"])
    row: dict[str, Any] = {"row_number": draw(st.sampled_from(labels)), "seats": []}
    _maybe(draw, row, "row_label", st.one_of(st.none(), st.just("Row %s")))
    _maybe(draw, row, "seat_label", st.one_of(st.none(), st.just("Seat %s")))
    _maybe(draw, row, "uuid", st.uuids().map(str))
    _maybe(draw, row, "row_number_position", st.sampled_from(["start", "end", "both", None]))
    angle = zone_turn + math.radians(draw(st.sampled_from([0, 15, 45, 90, 200])))
    start = (0.0, 60.0 * index)
    if draw(st.booleans()):
        row["position"] = _position(draw)
        start = (0.0, 0.0)
    spacing = draw(st.sampled_from([24, 30, 40]))
    names = [*categories, "Unlisted"]
    for k in range(draw(st.integers(1, 5))):
        numbers = [str(k + 1)] + ([] if tidy else ["", "1"])
        seat: dict[str, Any] = {
            "seat_guid": draw(st.sampled_from([f"g{j}" for j in range(6)] + [""])),
            "seat_number": draw(st.sampled_from(numbers)),
            "position": {"x": round(2 * (start[0] + k * spacing * math.cos(angle))) / 2,
                         "y": round(2 * (start[1] + k * spacing * math.sin(angle))) / 2},
            "category": draw(st.sampled_from(names)),
        }
        _maybe(draw, seat, "uuid", st.uuids().map(str))
        _maybe(draw, seat, "start_direction", st.sampled_from(["<", ">", "<>", None]))
        _maybe(draw, seat, "radius", st.integers(-2, 16))
        row["seats"].append(seat)
    return row


def _area(draw: st.DrawFn, plan: Plan) -> dict[str, Any]:
    area: dict[str, Any] = {}
    _maybe(draw, area, "position", st.builds(dict, x=_half(), y=_half()))
    _maybe(draw, area, "rotation", st.sampled_from([0, 45, 90, -30, 180.5, 720]))
    _maybe(draw, area, "uuid", st.uuids().map(str))
    if draw(st.booleans()):
        area["color"] = _colour(draw, plan)
    if draw(st.booleans()):
        area["border_color"] = _colour(draw, plan)
    if draw(st.integers(0, 9)) == 0:
        return area  # no shape at all: the schema allows it
    shape = draw(st.sampled_from(SHAPES))
    area["shape"] = shape
    size = st.integers(1, 300)
    if shape == "rectangle":
        area["rectangle"] = {"width": draw(size), "height": draw(size)}
    elif shape == "circle":
        area["circle"] = {"radius": draw(size)}
    elif shape == "ellipse":
        area["ellipse"] = {"radius": {"x": draw(size), "y": draw(size)}}
    elif shape == "polygon":
        area["polygon"] = {"points": [_position(draw) for _ in range(draw(st.integers(3, 6)))]}
    if shape == "text" or draw(st.booleans()):
        text: dict[str, Any] = {"text": draw(st.text(min_size=1, max_size=10)),
                                "position": _position(draw)}
        if draw(st.booleans()):
            text["color"] = _colour(draw, plan)
        _maybe(draw, text, "size", st.integers(1, 40))
        area["text"] = text
    return area
