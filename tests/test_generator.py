"""The synthetic venue generator: geometry, labels, rules and round trips."""

from __future__ import annotations

import io
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seatmap.formats import load_venue_bytes, load_venue_file, write_native
from seatmap.generator import KINDS, VenueKind, generate_venue
from seatmap.model import NO_NEIGHBOUR, SeatType, Venue

kinds = st.sampled_from(KINDS)
small_counts = st.integers(min_value=1, max_value=450)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


FloatArray = npt.NDArray[np.float64]


def _inside(
    x: FloatArray, y: FloatArray, poly: FloatArray
) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    """Even-odd test, and each point's distance to the nearest edge.

    Written apart from the production point-in-polygon code on purpose.
    """
    ax, ay = poly[:, 0][None, :], poly[:, 1][None, :]
    bx, by = np.roll(poly[:, 0], -1)[None, :], np.roll(poly[:, 1], -1)[None, :]
    px, py = x[:, None], y[:, None]
    straddles = (ay > py) != (by > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross_x = ax + (py - ay) * (bx - ax) / (by - ay)
    inside = (straddles & (px < cross_x)).sum(axis=1) % 2 == 1
    ex, ey = bx - ax, by - ay
    t = np.clip(((px - ax) * ex + (py - ay) * ey) / np.maximum(ex * ex + ey * ey, 1e-12), 0, 1)
    distance = np.hypot(px - (ax + t * ex), py - (ay + t * ey)).min(axis=1)
    return inside, distance


def _check_geometry(venue: Venue) -> None:
    seats = venue.seats
    x, y = seats.x.astype(np.float64), seats.y.astype(np.float64)
    r = seats.radius.astype(np.float64)
    assert (r > 0).all()
    assert ((x - r >= 0) & (x + r <= venue.width) & (y - r >= 0) & (y + r <= venue.height)).all()
    for section in venue.sections:
        mine = seats.section == section.index
        inside, edge = _inside(x[mine], y[mine], np.array(section.outline))
        assert inside.all(), f"seat outside section {section.name}"
        assert (edge > r[mine]).all(), f"seat disc crosses the outline of {section.name}"
    dx = x[:, None] - x[None, :]
    dy = y[:, None] - y[None, :]
    distance = np.hypot(dx, dy) + np.eye(len(x)) * 1e9
    assert (distance >= (r[:, None] + r[None, :]) - 1e-3).all(), "two seats overlap"


def _check_rows_and_labels(venue: Venue) -> None:
    seats = venue.seats
    assert len(set(seats.external_ids)) == venue.seat_count
    for section in venue.sections:
        labels = [r.label for r in venue.rows if r.section_index == section.index]
        assert len(labels) == len(set(labels))
    for row in venue.rows:
        labels = [seats.labels[i] for i in row.seat_indices]
        assert labels == [str(n) for n in range(1, len(labels) + 1)]
    for i in range(venue.seat_count):
        if seats.right[i] != NO_NEIGHBOUR:
            assert seats.left[seats.right[i]] == i
        if seats.left[i] != NO_NEIGHBOUR:
            assert seats.right[seats.left[i]] == i


def _check_accessibility_and_prices(venue: Venue) -> None:
    seats = venue.seats
    for i in np.flatnonzero(seats.seat_type == SeatType.WHEELCHAIR).tolist():
        assert seats.accessible[i]
        beside = [n for n in (seats.left[i], seats.right[i]) if n != NO_NEIGHBOUR]
        assert any(seats.seat_type[n] == SeatType.COMPANION for n in beside)
    assert 3 <= len(venue.categories) <= 6
    prices = [c.price_cents for c in venue.categories]
    assert prices == sorted(prices, reverse=True) and len(set(prices)) == len(prices)
    distance = np.hypot(seats.x - venue.focal_point[0], seats.y - venue.focal_point[1])
    used = sorted(set(seats.category.tolist()))
    for nearer, farther in pairwise(used):
        assert distance[seats.category == nearer].max() <= distance[seats.category == farther].min()


@settings(max_examples=40, deadline=None)
@given(kind=kinds, count=small_counts, seed=seeds)
def test_generated_venue_is_sound(kind: VenueKind, count: int, seed: int) -> None:
    venue = generate_venue(kind, count, seed)
    assert venue.seat_count == count
    _check_geometry(venue)
    _check_rows_and_labels(venue)
    _check_accessibility_and_prices(venue)


@settings(max_examples=15, deadline=None)
@given(kind=kinds, count=small_counts, seed=seeds)
def test_same_seed_gives_the_same_venue_and_it_survives_a_round_trip(
    kind: VenueKind, count: int, seed: int
) -> None:
    venue = generate_venue(kind, count, seed)
    assert generate_venue(kind, count, seed).content_hash == venue.content_hash
    buffer = io.BytesIO()
    write_native(venue, buffer)
    assert load_venue_bytes(buffer.getvalue()).content_hash == venue.content_hash


def test_different_seeds_give_different_venues() -> None:
    hashes = {generate_venue("arena", 800, seed).content_hash for seed in range(4)}
    assert len(hashes) == 4


@pytest.mark.parametrize(("kind", "count"), [("theater", 2000), ("arena", 20000)])
def test_full_size_venue_looks_like_a_real_one(kind: VenueKind, count: int) -> None:
    venue = generate_venue(kind, count, seed=7)
    assert venue.seat_count == count
    names = [s.name for s in venue.sections]
    assert names[0] == "101" and "201" in names
    assert all(n.isdigit() and len(n) == 3 for n in names)
    assert {"A", "B", "C"} <= {r.label for r in venue.rows}
    types = Counter(venue.seats.seat_type.tolist())
    assert types[SeatType.WHEELCHAIR] >= len(venue.sections)
    assert types[SeatType.COMPANION] == types[SeatType.WHEELCHAIR]
    inner_breaks = sum(
        1 for row in venue.rows for i in row.seat_indices[1:] if venue.seats.left[i] == NO_NEIGHBOUR
    )
    if kind == "theater":
        assert inner_breaks > 0, "long theater rows have a mid-row aisle"
    assert {a.kind for a in venue.areas} >= {"rect", "text"}
    _check_rows_and_labels(venue)
    _check_accessibility_and_prices(venue)


def test_stadium_has_three_tiers_and_a_field() -> None:
    venue = generate_venue("stadium", 40000, seed=1)
    assert {s.name[0] for s in venue.sections} == {"1", "2", "3"}
    assert [a.kind for a in venue.areas] == ["ellipse", "rect", "circle", "rect", "text"]
    assert venue.areas[-1].text == "FIELD"


@pytest.mark.parametrize("bad", [("hall", 10), ("arena", 0)])
def test_bad_arguments_are_refused(bad: tuple[str, int]) -> None:
    with pytest.raises(ValueError):
        generate_venue(bad[0], bad[1], 0)  # type: ignore[arg-type]


@pytest.mark.slow
def test_150k_seat_stadium_generates_writes_and_reads_back(tmp_path: Path) -> None:
    started = time.perf_counter()
    venue = generate_venue("stadium", 150_000, seed=3)
    path = tmp_path / "stadium.json"
    write_native(venue, path)
    generated = time.perf_counter() - started
    assert venue.seat_count == 150_000
    assert load_venue_file(path).content_hash == venue.content_hash
    assert generated < 20, f"generate + write took {generated:.1f} s"
