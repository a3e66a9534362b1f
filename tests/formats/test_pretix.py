"""pretix seating plans: the small hall fixture and every kind of broken plan."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from seatmap.formats import dumps_native, load_venue_bytes, read_pretix
from seatmap.formats._geometry import points_in_polygon
from seatmap.model import Venue
from tests.formats.helpers import PRETIX_SMALL, fixture_doc, load_error, write_json


@pytest.fixture(scope="module")
def hall() -> Venue:
    return read_pretix(PRETIX_SMALL)


def test_zones_with_seats_become_sections(hall: Venue) -> None:
    assert hall.name == "Kleiner Saal"
    assert hall.seat_count == 6 * 12 + 3 * 10 + 2 * 4
    assert [s.name for s in hall.sections] == ["Parkett", "Balkon", "Loge"]
    assert [s.external_id for s in hall.sections] == [
        "parkett",
        "7b0d2a55-8f1c-4a43-9b9e-5d1c2f3a4b5c",
        "Loge",
    ]
    assert len(hall.rows) == 6 + 3 + 2
    assert [r.label for r in hall.rows[:6]] == ["1", "2", "3", "4", "5", "6"]


def test_seat_labels_ids_and_positions_add_up(hall: Venue) -> None:
    index = hall.seat_index_of("P-2-5")
    assert index is not None
    assert hall.seats.labels[index] == "5"
    assert hall.full_label(index) == "Parkett-2-5"
    # zone (300, 300) + row (0, 50) + seat (4 * 40, 0)
    assert (float(hall.seats.x[index]), float(hall.seats.y[index])) == (460.0, 350.0)
    assert float(hall.seats.radius[index]) == 10.0
    first = hall.seat_index_of("P-1-1")
    assert first is not None
    assert float(hall.seats.radius[first]) == 12.0
    loge = hall.seat_index_of("L-2-3")
    assert loge is not None
    assert (float(hall.seats.x[loge]), float(hall.seats.y[loge])) == (1200.0, 330.0)


def test_categories_keep_names_and_colours_with_price_zero(hall: Venue) -> None:
    assert [(c.external_id, c.color, c.price_cents) for c in hall.categories] == [
        ("Parkett", "#e41a1c", 0),
        ("Balkon", "#377eb8", 0),
        ("Loge", "#4daf4a", 0),
    ]
    parkett_rows = hall.seats.category[hall.seats.section == 0]
    assert int((parkett_rows == 0).sum()) == 48
    assert int((parkett_rows == 1).sum()) == 24


def test_every_seat_lies_inside_its_zone_outline(hall: Venue) -> None:
    seats = hall.seats
    for section in hall.sections:
        mine = seats.section == section.index
        outline = np.array(section.outline)
        x, y = seats.x[mine].astype(np.float64), seats.y[mine].astype(np.float64)
        assert points_in_polygon(x, y, outline).all()
        r = seats.radius[mine]
        assert (x - r >= outline[:, 0].min()).all() and (x + r <= outline[:, 0].max()).all()


def test_rows_are_adjacent_in_order(hall: Venue) -> None:
    row = hall.rows[0]
    seats = hall.seats
    assert all(seats.right[a] == b for a, b in pairwise(row.seat_indices))
    assert seats.left[row.seat_indices[0]] == -1


def test_areas_of_every_shape_with_rotation(hall: Venue) -> None:
    kinds = [a.kind for a in hall.areas]
    assert kinds == ["rect", "text", "text", "circle", "polygon", "ellipse", "rect", "text"]
    stage, stage_text, exit_text, pillar, ramp, ellipse, bar, bar_text = hall.areas
    assert stage.points == ((450.0, 40.0), (950.0, 180.0))
    assert (stage.fill, stage.stroke) == ("#555555", "#222222")
    assert (stage_text.text, stage_text.points, stage_text.font_size) == (
        "Bühne",
        ((700.0, 110.0),),
        32.0,
    )
    assert (exit_text.text, exit_text.rotation_deg, exit_text.font_size) == ("Ausgang", 90.0, 18.0)
    assert pillar.points == ((200.0, 400.0), (25.0, 25.0))
    # The polygon's 90 degree turn about its position is applied to its points.
    assert ramp.rotation_deg == 0.0
    assert np.allclose(ramp.points, [(540, 630), (540, 690), (520, 690), (520, 630)])
    assert ellipse.points == ((1150.0, 760.0), (60.0, 25.0))
    assert (ellipse.rotation_deg, ellipse.stroke) == (45.0, "#999999")
    assert bar.rotation_deg == -10.0
    assert bar.points == ((270.0, 870.0), (390.0, 910.0))
    assert bar_text.text == "Bar"
    assert bar_text.rotation_deg == -10.0


def test_plan_reaching_left_of_the_origin_is_shifted_into_the_venue(tmp_path: Path) -> None:
    doc = fixture_doc(PRETIX_SMALL)
    doc["zones"][1]["position"]["x"] = -200
    venue = read_pretix(write_json(tmp_path, doc))
    assert float(venue.seats.x.min() - venue.seats.radius.max()) >= 0
    assert all(x >= 0 for s in venue.sections for x, _ in s.outline)


def test_plan_written_as_native_reads_back_the_same(hall: Venue) -> None:
    assert load_venue_bytes(dumps_native(hall)).content_hash == hall.content_hash


def _seat(doc: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = doc["zones"][1]["rows"][2]["seats"][3]
    return found


def _drop_guid(doc: dict[str, Any]) -> None:
    del _seat(doc)["seat_guid"]


def _seat_set(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        _seat(doc)[key] = value

    return change


def _position_set(axis: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        _seat(doc)["position"][axis] = value

    return change


def _no_seats(doc: dict[str, Any]) -> None:
    for zone in doc["zones"]:
        zone["rows"] = []


def _no_zones_field(doc: dict[str, Any]) -> None:
    del doc["zones"]


def _bad_shape(doc: dict[str, Any]) -> None:
    doc["zones"][0]["areas"][0]["shape"] = "star"


def _zone_without_position(doc: dict[str, Any]) -> None:
    del doc["zones"][2]["position"]


def _category_without_name(doc: dict[str, Any]) -> None:
    del doc["categories"][1]["name"]


def _row_not_object(doc: dict[str, Any]) -> None:
    doc["zones"][2]["rows"][1] = "row"


SEAT = "$.zones[1].rows[2].seats[3]"
BAD_PRETIX: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("missing guid", _drop_guid, SEAT + ".seat_guid", "missing field 'seat_guid'"),
    ("number not text", _seat_set("seat_number", [1]), SEAT + ".seat_number", "expected a string"),
    ("wrong type", _position_set("x", "40"), SEAT + ".position.x", "expected a number"),
    ("NaN", _position_set("y", float("nan")), SEAT + ".position.y", "not finite"),
    ("absurd", _position_set("x", 5e6), SEAT + ".position.x", "beyond"),
    ("no seats", _no_seats, "$.zones", "plan has no seats"),
    ("no zones", _no_zones_field, "$.zones", "missing field 'zones'"),
    ("unknown shape", _bad_shape, "$.zones[0].areas[0].shape", "unknown shape 'star'"),
    ("zone without position", _zone_without_position, "$.zones[2].position", "missing field"),
    ("nameless category", _category_without_name, "$.categories[1].name", "missing field"),
    ("row not object", _row_not_object, "$.zones[2].rows[1]", "expected an object"),
]


@pytest.mark.parametrize(
    ("change", "path", "detail"),
    [case[1:] for case in BAD_PRETIX],
    ids=[case[0] for case in BAD_PRETIX],
)
def test_bad_pretix_plan_names_the_place(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], path: str, detail: str
) -> None:
    doc = fixture_doc(PRETIX_SMALL)
    change(doc)
    file = write_json(tmp_path, doc)
    error = load_error(file, format="pretix")
    assert (error.path, error.file) == (path, str(file))
    assert detail in error.detail


def test_guids_repeated_on_the_balcony_become_seats_of_their_own(tmp_path: Path) -> None:
    doc = fixture_doc(PRETIX_SMALL)
    balcony = doc["zones"][2]
    for row in balcony["rows"]:
        for seat in row["seats"]:
            seat["seat_guid"] = seat["seat_guid"].replace("B-", "P-")
    venue = read_pretix(write_json(tmp_path, doc))
    seats = venue.seats
    assert venue.seat_count == 6 * 12 + 3 * 10 + 2 * 4
    assert len(set(seats.external_ids)) == venue.seat_count
    ground = venue.seat_index_of("parkett/P-1-1")
    upper = venue.seat_index_of("7b0d2a55-8f1c-4a43-9b9e-5d1c2f3a4b5c/P-1-1")
    assert ground is not None and upper is not None
    assert seats.source_id(ground) == seats.source_id(upper) == "P-1-1"
    assert (venue.full_label(ground), venue.full_label(upper)) == ("Parkett-1-1", "Balkon-1-1")
    # A guid used once keeps it as its id.
    unique = venue.seat_index_of("P-6-12")
    assert unique is not None and seats.source_id(unique) == "P-6-12"


def test_guid_repeated_in_one_row_and_empty_guids_get_numbered_ids(tmp_path: Path) -> None:
    doc = fixture_doc(PRETIX_SMALL)
    row = doc["zones"][3]["rows"][0]["seats"]
    row[1]["seat_guid"] = row[0]["seat_guid"]
    row[2]["seat_guid"] = row[3]["seat_guid"] = ""
    venue = read_pretix(write_json(tmp_path, doc))
    ids = venue.seats.external_ids
    assert len(set(ids)) == venue.seat_count
    assert {"Loge/L-1-1", "Loge/L-1-1#2", "Loge/1-3", "Loge/1-4"} <= set(ids)


def test_what_pretix_accepts_is_read_as_pretix_reads_it(tmp_path: Path) -> None:
    doc = fixture_doc(PRETIX_SMALL)
    seat = _seat(doc)
    seat.update(seat_number="", category="VIP", radius=-3)
    doc["categories"][0]["color"] = "rot"  # no CSS colour: ignored, as a browser does
    doc["zones"][1]["areas"][1]["polygon"]["points"] = [{"x": 0, "y": 0}, {"x": 1, "y": 1}]
    doc["zones"][0]["areas"].append({})
    doc["size"] = {"width": 0, "height": -5}
    venue = read_pretix(write_json(tmp_path, doc))
    index = venue.seat_index_of(seat["seat_guid"])
    assert index is not None
    assert venue.seats.labels[index] == ""
    assert venue.categories[int(venue.seats.category[index])].external_id == "VIP"
    assert float(venue.seats.radius[index]) == 10.0
    assert venue.categories[0].color == "#8c8c8c"
    assert "polygon" not in [a.kind for a in venue.areas]
    assert venue.width > 0 and venue.height > 0


def test_areas_without_measures_or_shape_and_older_area_forms(tmp_path: Path) -> None:
    doc = fixture_doc(PRETIX_SMALL)
    doc["zones"][0]["areas"] = [
        {"shape": "circle", "color": "red"},  # nothing to draw: no circle object
        {"shape": "rectangle", "rectangle": {"width": 0, "height": 10}},
        {"text": {"text": "Foyer", "position": {"x": 5, "y": 6}}},  # no shape, just text
        {"width": 40, "height": 20, "position": {"x": 1, "y": 2}, "text": "Bar",
         "color": "hsl(0 100% 50% / 50%)", "border_color": "none"},  # before shapes
    ]
    venue = read_pretix(write_json(tmp_path, doc))
    foyer, bar = venue.areas[:2]  # the other zones add theirs after these
    assert (foyer.kind, foyer.text, foyer.points) == ("text", "Foyer", ((5.0, 6.0),))
    assert (bar.kind, bar.points, bar.text) == ("rect", ((1.0, 2.0), (41.0, 22.0)), "Bar")
    assert (bar.fill, bar.stroke) == ("#ff000080", "")
