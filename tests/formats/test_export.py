"""`seatmap export`: venues written as pretix plans (or native files) read back the same."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings

from seatmap.formats import dumps_venue, load_venue_bytes, parse_pretix, read_pretix
from seatmap.formats.palette import parse_css_color
from seatmap.generator import generate_venue
from seatmap.model import Area, Venue
from seatmap.settings import Settings
from tests.formats.helpers import PRETIX_SMALL, fixture_doc, write_json
from tests.formats.pretix_shape import problems
from tests.formats.pretix_strategy import Plan, pretix_plans
from tests.seatmap.test_cli import run_cli

ROUND_TRIPS = settings(max_examples=40, deadline=None)


def _paint(color: str) -> tuple[int, int, int, int] | None:
    """A fill or stroke as what it paints: None for no paint at all."""
    parsed = parse_css_color(color) if color else None
    return None if parsed is None or parsed[3] == 0 else parsed


def _area_key(area: Area) -> tuple[object, ...]:
    points = np.round(np.array(area.points, dtype=np.float64), 3).tolist()
    return (area.kind, points, _paint(area.fill), _paint(area.stroke), area.text,
            parse_css_color(area.text_color), round(area.font_size), area.rotation_deg % 360)


def assert_same_venue(a: Venue, b: Venue, *, source_ids: bool = True) -> None:
    """Same seats, ids, labels, categories, sections, positions (within 1e-3) and areas."""
    assert b.seat_count == a.seat_count
    assert b.seats.external_ids == a.seats.external_ids
    if source_ids:
        assert [b.seats.source_id(i) for i in range(b.seat_count)] == [
            a.seats.source_id(i) for i in range(a.seat_count)]
    assert b.seats.labels == a.seats.labels
    assert [(r.label, r.section_index, r.seat_indices) for r in b.rows] == [
        (r.label, r.section_index, r.seat_indices) for r in a.rows]
    assert [(s.external_id, s.name) for s in b.sections] == [
        (s.external_id, s.name) for s in a.sections]
    assert [(c.external_id, parse_css_color(c.color)) for c in b.categories] == [
        (c.external_id, parse_css_color(c.color)) for c in a.categories]
    assert np.array_equal(b.seats.category, a.seats.category)
    for column in ("x", "y", "radius"):
        assert np.allclose(getattr(b.seats, column), getattr(a.seats, column), atol=1e-3)
    assert [_area_key(x) for x in b.areas] == [_area_key(x) for x in a.areas]
    assert abs(b.width - a.width) <= 1 and abs(b.height - a.height) <= 1


def test_small_hall_goes_back_into_pretix_unchanged() -> None:
    hall = read_pretix(PRETIX_SMALL)
    exported = orjson.loads(dumps_venue(hall, "pretix"))
    assert problems(exported) == []
    assert_same_venue(hall, parse_pretix(exported))


def test_repeated_guids_go_back_into_pretix_as_they_came(tmp_path: Path) -> None:
    doc = fixture_doc(PRETIX_SMALL)
    for row in doc["zones"][2]["rows"]:
        for seat in row["seats"]:
            seat["seat_guid"] = seat["seat_guid"].replace("B-", "P-")
    hall = read_pretix(write_json(tmp_path, doc))
    exported = orjson.loads(dumps_venue(hall, "pretix"))
    guids = [s["seat_guid"] for z in exported["zones"] for r in z["rows"] for s in r["seats"]]
    assert guids.count("P-1-1") == 2
    assert_same_venue(hall, parse_pretix(exported))
    native = load_venue_bytes(dumps_venue(hall, "seatmap"))
    assert_same_venue(hall, native)


@ROUND_TRIPS
@given(pretix_plans())
def test_any_plan_round_trips_through_pretix_export(plan: Plan) -> None:
    first = parse_pretix(plan.doc)
    exported = orjson.loads(dumps_venue(first, "pretix"))
    assert problems(exported) == []
    assert_same_venue(first, parse_pretix(exported))


@ROUND_TRIPS
@given(pretix_plans(tidy=True))
def test_tidy_plan_round_trips_through_native_export(plan: Plan) -> None:
    first = parse_pretix(plan.doc)
    assert_same_venue(first, load_venue_bytes(dumps_venue(first, "seatmap")))


def test_generated_venue_exports_to_a_plan_pretix_accepts() -> None:
    venue = generate_venue("theater", 600, 3)
    exported = orjson.loads(dumps_venue(venue, "pretix"))
    assert problems(exported) == []
    again = parse_pretix(exported)
    assert again.seats.external_ids == venue.seats.external_ids
    assert np.allclose(again.seats.x, venue.seats.x, atol=1e-3)
    assert [c.external_id for c in again.categories] == [c.external_id for c in venue.categories]


@pytest.mark.slow
async def test_cli_exports_a_stored_venue_and_converts_a_file(
    settings: Settings, tmp_path: Path
) -> None:
    imported = run_cli(settings, "import", str(PRETIX_SMALL))
    assert imported.returncode == 0, imported.stderr
    venue_id = imported.stdout.strip()
    out = tmp_path / "plan.json"
    exported = run_cli(settings, "export", f"venue:{venue_id}", "--format", "pretix",
                       "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "110 seats" in exported.stderr
    assert_same_venue(read_pretix(PRETIX_SMALL), read_pretix(out))
    event = run_cli(settings, "create-event", "--venue", venue_id, "--title", "Gala",
                    "--no-render")
    assert event.returncode == 0, event.stderr
    by_event = run_cli(settings, "export", f"event:{event.stdout.strip()}", "--format", "pretix")
    assert by_event.returncode == 0, by_event.stderr
    assert by_event.stdout.strip() == out.read_text().strip()
    converted = run_cli(settings, "export", str(PRETIX_SMALL), "--format", "seatmap")
    assert converted.returncode == 0, converted.stderr
    assert json.loads(converted.stdout)["format"] == "seatmap-venue"
    missing = run_cli(settings, "export", "venue:999999")
    bad = run_cli(settings, "export", "hall", "--format", "pretix")
    assert (missing.returncode, bad.returncode) == (1, 1)
    assert "999999" in missing.stderr and "venue:ID" in bad.stderr
