"""Plans drawn from pretix's schema import with the right seats, labels, categories, colours."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings

from seatmap.formats import parse_pretix
from seatmap.formats.palette import parse_css_color
from seatmap.model import Area, Venue
from tests.formats.pretix_shape import problems
from tests.formats.pretix_strategy import SHAPES, Plan, pretix_plans

PLANS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEFAULT_CATEGORY = (140, 140, 140, 255)
DEFAULT_FILL = (217, 217, 217, 255)


def _seats(doc: dict[str, Any]) -> list[tuple[int, dict[str, Any], tuple[float, float]]]:
    """(zone index, seat, absolute position) of every seat, in file order."""
    out = []
    for zi, zone in enumerate(doc["zones"]):
        zx, zy = zone["position"]["x"], zone["position"]["y"]
        for row in zone["rows"]:
            rx, ry = (row["position"]["x"], row["position"]["y"]) if "position" in row else (0, 0)
            for seat in row["seats"]:
                at = (zx + rx + seat["position"]["x"], zy + ry + seat["position"]["y"])
                out.append((zi, seat, at))
    return out


def _expected_categories(plan: Plan) -> dict[str, tuple[int, int, int, int]]:
    """Category name -> colour: listed ones first (first colour wins), then unlisted ones."""
    out: dict[str, tuple[int, int, int, int]] = {}
    for category in plan.doc["categories"]:
        color = plan.colors.get(category.get("color", ""), DEFAULT_CATEGORY)
        out.setdefault(category["name"], color)
    for _, seat, _ in _seats(plan.doc):
        out.setdefault(seat["category"], DEFAULT_CATEGORY)
    return out


def _paint(plan: Plan, area: dict[str, Any], key: str, default: tuple[int, ...] | None) -> Any:
    color = plan.colors.get(area[key]) if key in area else default
    return None if color is None or color[3] == 0 else color


def _expected_areas(plan: Plan) -> list[tuple[str, Any, Any, float]]:
    """(kind, fill, stroke, rotation) of every venue area the plan's areas give, in order.

    Rectangles, ellipses and text keep their turn; polygons have it applied to
    their points and circles do not need one.
    """
    out: list[tuple[str, Any, Any, float]] = []
    kinds = dict(zip(SHAPES, ("rect", "circle", "ellipse", "polygon", "text"), strict=True))
    for zone in plan.doc["zones"]:
        for area in zone.get("areas", []):
            shape = area.get("shape")
            turn = math.fmod(area.get("rotation", 0), 360)
            if shape in SHAPES and shape != "text":
                kept = turn if shape in ("rectangle", "ellipse") else 0.0
                out.append((kinds[shape], _paint(plan, area, "color", DEFAULT_FILL),
                            _paint(plan, area, "border_color", None), kept))
            if shape is not None and "text" in area and area["text"]["text"].strip():
                text = area["text"]
                out.append(("text", None, plan.colors.get(text.get("color", ""), "default"),
                            turn))
    return out


def _area_colors(area: Area) -> tuple[str, Any, Any, float]:
    if area.kind == "text":
        default = area.text_color == "#333333"
        color = "default" if default else parse_css_color(area.text_color)
        return ("text", None, color, area.rotation_deg)
    fill = parse_css_color(area.fill) if area.fill else None
    stroke = parse_css_color(area.stroke) if area.stroke else None
    return (area.kind, fill, stroke, area.rotation_deg)


def _check_seats(plan: Plan, venue: Venue) -> None:
    seats = _seats(plan.doc)
    assert venue.seat_count == len(seats)
    assert list(venue.seats.labels) == [s["seat_number"] for _, s, _ in seats]
    assert [venue.seats.source_id(i) for i in range(venue.seat_count)] == [
        s["seat_guid"] for _, s, _ in seats
    ]
    assert len(set(venue.seats.external_ids)) == venue.seat_count
    names = [c.external_id for c in venue.categories]
    assert [names[c] for c in venue.seats.category.tolist()] == [s["category"] for _, s, _ in seats]
    radius = [s.get("radius", 10) for _, s, _ in seats]
    assert venue.seats.radius.tolist() == [r if r > 0 else 10 for r in radius]
    # Positions add up (zone + row + seat), shifted as one so the venue starts at 0.
    at = np.array([p for _, _, p in seats])
    shift = np.column_stack([venue.seats.x, venue.seats.y]) - at
    assert np.allclose(shift, shift[0], atol=1e-3)
    assert (venue.seats.x >= 0).all() and (venue.seats.y >= 0).all()
    assert (venue.seats.x <= venue.width).all() and (venue.seats.y <= venue.height).all()
    zones = [zi for zi, _, _ in seats]
    sections = venue.seats.section.tolist()
    assert all((a == b) == (sections[i] == sections[j]) for i, a in enumerate(zones)
               for j, b in enumerate(zones))


@PLANS
@given(pretix_plans())
def test_plan_pretix_accepts_imports_every_seat_as_pretix_does(plan: Plan) -> None:
    venue = parse_pretix(plan.doc)
    _check_seats(plan, venue)
    expected = _expected_categories(plan)
    assert [c.external_id for c in venue.categories] == list(expected)
    assert [parse_css_color(c.color) for c in venue.categories] == list(expected.values())
    assert [_area_colors(a) for a in venue.areas] == _expected_areas(plan)


def test_strategy_draws_plans_that_break_no_rule_of_the_schema() -> None:
    seen: list[int] = []
    shared_guids: list[bool] = []

    @settings(max_examples=30, deadline=None)
    @given(pretix_plans())
    def check(plan: Plan) -> None:
        plan.doc.setdefault("size", {"width": 100, "height": 100})
        assert problems(plan.doc) == []
        seats = _seats(plan.doc)
        seen.append(len(seats))
        zones_of: dict[str, set[int]] = {}
        for zi, seat, _ in seats:
            zones_of.setdefault(seat["seat_guid"], set()).add(zi)
        shared_guids.append(any(len(z) > 1 for z in zones_of.values()))

    check()
    assert seen and max(seen) > 1
    assert any(shared_guids)  # zones do repeat each other's guids


def test_schema_check_names_what_breaks_it() -> None:
    doc = {
        "name": "x", "categories": [{"name": "a", "colour": "red"}], "size": {"width": 1.5},
        "zones": [{"position": {"x": 0, "y": 0}, "rows": [
            {"row_number": 1, "seats": [{"seat_number": "1", "position": {"x": 0, "y": "0"},
                                         "category": "a", "radius": 2.5}]}]}],
    }
    assert sorted(problems(doc)) == [
        "$.categories[0].colour: not allowed",
        "$.size.height: missing",
        "$.size.width: expected integer, got 1.5",
        "$.zones[0].rows[0].row_number: expected string, got 1",
        "$.zones[0].rows[0].seats[0].position.y: expected number, got '0'",
        "$.zones[0].rows[0].seats[0].radius: expected integer, got 2.5",
        "$.zones[0].rows[0].seats[0].seat_guid: missing",
    ]
