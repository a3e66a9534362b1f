"""The native venue format: reading good files, refusing bad ones, writing."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seatmap.formats import dumps_native, load_venue_file, read_native, write_native
from seatmap.formats._schema import _seat_looks_valid, venue_schema
from seatmap.model import NO_NEIGHBOUR, SeatType
from tests.formats.helpers import NATIVE_SMALL, fixture_doc, load_error, write_json

DOCS = Path(__file__).resolve().parents[2] / "docs" / "venue-format.md"


def test_small_native_file_loads_with_every_field() -> None:
    venue = read_native(NATIVE_SMALL)
    assert venue.name == "Small Hall"
    assert venue.seat_count == 66
    assert [s.name for s in venue.sections] == ["ST", "BA"]
    assert [r.label for r in venue.rows] == ["A", "B", "C", "D", "A", "B"]
    assert [c.price_cents for c in venue.categories] == [6500, 4200, 2500]
    assert venue.focal_point == (575.0, 120.0)
    first = venue.seat_index_of("ST-A-1")
    assert first is not None
    assert venue.full_label(first) == "ST-A-1"
    assert venue.seats.seat_type[first] == SeatType.WHEELCHAIR
    assert venue.seats.accessible[first]
    assert venue.seats.seat_type[first + 1] == SeatType.COMPANION
    assert float(venue.seats.radius[first]) == 20.0
    own_radius = venue.seat_index_of("ST-D-10")
    assert own_radius is not None
    assert float(venue.seats.radius[own_radius]) == 18.0
    assert venue.seats.seat_type[own_radius] == SeatType.RESTRICTED_VIEW
    assert [a.kind for a in venue.areas] == ["rect", "text", "circle", "ellipse", "polygon"]
    assert venue.areas[0].points == ((350.0, 60.0), (800.0, 180.0))
    assert venue.areas[3].rotation_deg == 30.0


def test_gap_before_breaks_adjacency_in_the_row() -> None:
    venue = read_native(NATIVE_SMALL)
    row = venue.rows[0]
    fifth, sixth = row.seat_indices[4], row.seat_indices[5]
    assert venue.seats.right[fifth] == NO_NEIGHBOUR
    assert venue.seats.left[sixth] == NO_NEIGHBOUR
    assert venue.seats.right[row.seat_indices[0]] == row.seat_indices[1]


def test_name_argument_overrides_the_files_name() -> None:
    assert read_native(NATIVE_SMALL, name="Renamed").name == "Renamed"


def test_write_then_read_gives_the_same_venue(tmp_path: Path) -> None:
    venue = read_native(NATIVE_SMALL)
    path = tmp_path / "copy.json"
    write_native(venue, path)
    assert read_native(path).content_hash == venue.content_hash
    buffer = io.BytesIO()
    write_native(venue, buffer)
    assert buffer.getvalue() == dumps_native(venue)


def test_example_in_the_format_docs_is_a_valid_venue(tmp_path: Path) -> None:
    block = re.search(r"```json\n(.*?)```", DOCS.read_text("utf-8"), re.S)
    assert block is not None
    venue = load_venue_file(write_json(tmp_path, json.loads(block.group(1))))
    assert venue.seat_count == 3
    assert venue.seats.left[2] == NO_NEIGHBOUR


def _seat(doc: dict[str, Any], section: int, row: int, seat: int) -> dict[str, Any]:
    found: dict[str, Any] = doc["sections"][section]["rows"][row]["seats"][seat]
    return found


def _set(key: str, value: object, where: tuple[int, int, int] = (0, 1, 3)) -> Callable[..., None]:
    def change(doc: dict[str, Any]) -> None:
        _seat(doc, *where)[key] = value

    return change


def _delete_x(doc: dict[str, Any]) -> None:
    del _seat(doc, 0, 1, 3)["x"]


def _duplicate_id(doc: dict[str, Any]) -> None:
    _seat(doc, 1, 0, 2)["id"] = "ST-A-1"


def _no_sections(doc: dict[str, Any]) -> None:
    doc["sections"] = []


def _empty_row(doc: dict[str, Any]) -> None:
    doc["sections"][0]["rows"][2]["seats"] = []


def _duplicate_category(doc: dict[str, Any]) -> None:
    doc["categories"][1]["id"] = "premium"


def _outline_nan(doc: dict[str, Any]) -> None:
    doc["sections"][0]["outline"][1][0] = float("nan")


def _outline_not_array(doc: dict[str, Any]) -> None:
    doc["sections"][1]["outline"] = "square"


def _area_without_width(doc: dict[str, Any]) -> None:
    del doc["areas"][0]["width"]


def _version_2(doc: dict[str, Any]) -> None:
    doc["version"] = 2


SEAT = "$.sections[0].rows[1].seats[3]"
BAD_NATIVE: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("missing field", _delete_x, SEAT + ".x", "missing field 'x'"),
    ("wrong type", _set("x", "300"), SEAT + ".x", "expected number, got string"),
    ("wrong type of flag", _set("accessible", "yes"), SEAT + ".accessible", "expected boolean"),
    ("unknown field", _set("colour", "red"), SEAT + ".colour", "unknown field 'colour'"),
    ("duplicate seat id", _duplicate_id, "$.sections[1].rows[0].seats[2]", "duplicate seat id"),
    ("unknown category", _set("category", "vip"), SEAT + ".category", "unknown category 'vip'"),
    ("NaN coordinate", _set("y", float("nan")), SEAT + ".y", "not a finite number"),
    ("infinite coordinate", _set("x", float("inf")), SEAT + ".x", "maximum"),
    ("absurd coordinate", _set("x", 2.5e6), SEAT + ".x", "maximum"),
    ("negative radius", _set("radius", -4), SEAT + ".radius", "less than or equal to"),
    ("seat outside outline", _set("x", 1000), SEAT, "outside its section's outline"),
    ("seat outside venue", _set("x", 1250), SEAT + ".x", "outside the venue"),
    ("empty venue", _no_sections, "$.sections", "venue has no seats"),
    ("empty row", _empty_row, "$.sections[0].rows[2].seats", "row has no seats"),
    ("duplicate label", _set("label", "1"), SEAT + ".label", "duplicate seat label '1'"),
    ("duplicate category", _duplicate_category, "$.categories[1].id", "duplicate category"),
    ("NaN in outline", _outline_nan, "$.sections[0].outline[1][0]", "not finite"),
    ("outline not array", _outline_not_array, "$.sections[1].outline", "expected array"),
    ("area field missing", _area_without_width, "$.areas[0].width", "missing field 'width'"),
    ("wrong version", _version_2, "$.version", "must be 1"),
]


@pytest.mark.parametrize(
    ("change", "path", "detail"),
    [case[1:] for case in BAD_NATIVE],
    ids=[case[0] for case in BAD_NATIVE],
)
def test_bad_native_file_names_the_place(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], path: str, detail: str
) -> None:
    doc = fixture_doc(NATIVE_SMALL)
    change(doc)
    file = write_json(tmp_path, doc)
    error = load_error(file)
    assert error.path == path
    assert detail in error.detail
    assert error.file == str(file)
    assert str(error).startswith(f"{file}: {path}: ")


def test_file_that_is_not_json_names_line_and_column(tmp_path: Path) -> None:
    file = tmp_path / "broken.json"
    file.write_text('{"format": "seatmap-venue",\n  "name": }\n', "utf-8")
    error = load_error(file)
    assert error.path == "$"
    assert "not JSON" in error.detail
    assert "line 2 column 11" in error.detail


def test_file_over_the_size_limit_is_refused_before_reading() -> None:
    error = load_error(NATIVE_SMALL, max_bytes=1000)
    assert "over the limit of 1000 bytes" in error.detail


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.5, -1.0, 2e6, -2e6, 1e6, float("nan"), float("inf")]),
    st.sampled_from(["", "a", "x" * 101, "x" * 201, "standard", "wheelchair", "bogus"]),
    st.lists(st.integers(), max_size=2),
)
_KEYS = ["id", "label", "x", "y", "category", "radius", "type", "accessible", "gap_before", "z"]
_GOOD_SEAT = {"id": "s1", "label": "1", "x": 10, "y": 20.5, "category": "c"}
_seats = st.tuples(
    st.dictionaries(st.sampled_from(_KEYS), _values, max_size=3),
    st.sets(st.sampled_from(list(_GOOD_SEAT)), max_size=1),
).map(lambda t: {k: v for k, v in {**_GOOD_SEAT, **t[0]}.items() if k not in t[1]})


@settings(max_examples=400, deadline=None)
@given(seat=_seats)
def test_fast_seat_check_never_passes_what_the_schema_rejects(seat: dict[str, Any]) -> None:
    schema = venue_schema()
    validator = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/seat"})
    if _seat_looks_valid(seat):
        assert validator.is_valid(seat)


def test_fast_seat_check_passes_ordinary_seats() -> None:
    doc = fixture_doc(NATIVE_SMALL)
    seats = [s for sec in doc["sections"] for row in sec["rows"] for s in row["seats"]]
    assert len(seats) == 66
    assert all(_seat_looks_valid(s) for s in seats)
