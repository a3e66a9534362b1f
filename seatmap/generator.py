"""Synthetic venues for demos, tests and benchmarks: theater, arena, stadium.

`generate_venue(kind, seats, seed)` returns a venue with exactly `seats` seats:
curved rows facing the stage or field, tiers (sections "101".. in the lowest,
"201".. above), aisles between sections and a mid-row aisle in long rows,
wheelchair places with a companion seat beside them at the back of each tier,
3 to 6 price categories (closer is pricier), and the stage or field drawn as
areas. Units are centimetres. The same kind, count and seed give the same venue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from seatmap.formats.native import write_native
from seatmap.formats.palette import CATEGORY_COLORS, section_color
from seatmap.generator_areas import field_areas
from seatmap.generator_layout import (
    SEAT_RADIUS_CM,
    Bowl,
    SectionRows,
    row_label,
    section_outline,
    section_rows,
    share_out,
    stack_tiers,
)
from seatmap.model import SeatType, Venue
from seatmap.venuebuild import SeatRecord, VenueBuilder

VenueKind = Literal["theater", "arena", "stadium"]
KINDS: tuple[VenueKind, ...] = ("theater", "arena", "stadium")

__all__ = ["KINDS", "VenueKind", "generate_venue", "write_native"]

_SEAT_TYPES = sorted(SeatType)


@dataclass(frozen=True, slots=True)
class _Template:
    """What a venue of one kind looks like at its nominal size."""

    nominal_seats: int
    first_radius: float  # radius of the first row's front edge at nominal size
    span_deg: tuple[float, float]  # range the seed picks the fan's width from
    tier_weights: tuple[float, ...]  # share of rows per tier, by venue size below
    tier_min_seats: tuple[int, ...]  # a tier is only used from this many seats
    section_arc: float
    mid_row_aisle_after: int  # rows longer than this get an aisle in the middle
    top_price_cents: int


_TEMPLATES: dict[str, _Template] = {
    "theater": _Template(1500, 600.0, (100.0, 130.0), (0.6, 0.4), (0, 400), 1100.0, 18, 9500),
    "arena": _Template(
        15000, 2600.0, (360.0, 360.0), (0.4, 0.35, 0.25), (0, 2000, 12000), 1050.0, 24, 14500
    ),
    "stadium": _Template(
        80000, 6900.0, (360.0, 360.0), (0.35, 0.3, 0.35), (0, 3000, 30000), 1150.0, 26, 19500
    ),
}


def generate_venue(kind: VenueKind, seats: int, seed: int = 0) -> Venue:
    """A synthetic venue of `kind` with exactly `seats` seats, the same for the same seed."""
    if kind not in _TEMPLATES:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if seats < 1:
        raise ValueError("seats must be at least 1")
    template = _TEMPLATES[kind]
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    scale = min(1.0, math.sqrt(seats / template.nominal_seats))
    bowl = _fit_bowl(template, seats, scale, rng)
    layout = section_rows(bowl, template.mid_row_aisle_after)
    counts = share_out(layout.capacity, seats)
    margin = 300.0 + 200.0 * scale
    reach = bowl.outer_radius + margin
    if bowl.full_ring:
        centre = (reach, reach)
        width = height = 2 * reach
    else:
        stage_depth = 0.6 * bowl.tiers[0].inner_radius
        half_width = max(
            bowl.outer_radius * abs(math.cos(bowl.theta_start)), 1.2 * bowl.tiers[0].inner_radius
        )
        centre = (half_width + margin, stage_depth + margin)
        width, height = 2 * centre[0], centre[1] + reach
    builder = VenueBuilder(f"Synthetic {kind} ({seats} seats, seed {seed})", width, height)
    builder.focal_point = centre
    category_count = int(rng.integers(3, 7))
    for c in range(category_count):
        price = round(template.top_price_cents * 0.72**c / 100) * 100
        builder.add_category(f"c{c + 1}", f"Category {c + 1}", CATEGORY_COLORS[c], price)
    _add_seats(builder, bowl, layout, counts, centre, category_count, template)
    for area in field_areas(kind, centre, bowl.tiers[0].inner_radius, scale):
        builder.add_area(area)
    return builder.build()


def _fit_bowl(template: _Template, seats: int, scale: float, rng: np.random.Generator) -> Bowl:
    """Add rows, tier by tier in proportion, until the bowl holds at least `seats`."""
    span = math.radians(float(rng.uniform(*template.span_deg)))
    start = math.pi / 2 - span / 2 if span < 2 * math.pi - 1e-9 else -math.pi / 2
    tiers = sum(1 for floor in template.tier_min_seats if seats >= floor)
    weights = np.array(template.tier_weights[:tiers])
    base = Bowl(
        theta_start=start,
        theta_span=span,
        tiers=(),
        seat_pitch=float(rng.choice([50.0, 51.0, 52.0, 54.0])),
        row_depth=float(rng.choice([85.0, 88.0, 90.0, 95.0])),
        aisle_half_width=float(rng.choice([55.0, 60.0, 65.0])),
        tier_gap=float(rng.choice([250.0, 300.0, 400.0])) * max(scale, 0.5),
        section_arc=template.section_arc * float(rng.uniform(0.9, 1.1)),
        max_sections=99,
    )
    first_radius = max(template.first_radius * scale, 300.0)
    rows = [1] * tiers
    while True:
        bowl = stack_tiers(base, first_radius, rows)
        capacity = int(section_rows(bowl, template.mid_row_aisle_after).capacity.sum())
        if capacity >= seats:
            return bowl
        # Far from the target, add many rows at once (half the estimate, to not overshoot).
        short, per_row = seats - capacity, capacity / sum(rows)
        grow = int(short / per_row / 2) if per_row > 0 and short > 4 * per_row else 1
        for _ in range(grow):
            t = int(np.argmin(np.array(rows) / weights))
            rows[t] += 1


def _add_seats(
    builder: VenueBuilder,
    bowl: Bowl,
    layout: SectionRows,
    counts: np.ndarray[tuple[int], np.dtype[np.int64]],
    centre: tuple[float, float],
    category_count: int,
    template: _Template,
) -> None:
    """Place every seat, vectorised, then hand rows to the builder section by section."""
    total = int(counts.sum())
    row_of_seat = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    j = np.arange(total) - starts[row_of_seat]
    n = counts[row_of_seat]
    has_gap = (counts > template.mid_row_aisle_after)[row_of_seat]
    half = n // 2
    along = (j - (n - 1) / 2.0) * bowl.seat_pitch
    along += np.where(has_gap, np.where(j >= half, 0.5, -0.5), 0.0) * bowl.seat_pitch
    mid_theta = (layout.theta_lo + layout.theta_hi) / 2
    radius = layout.radius[row_of_seat]
    theta = mid_theta[row_of_seat] + along / radius
    x = (centre[0] + radius * np.cos(theta)).astype(np.float32).tolist()
    y = (centre[1] + radius * np.sin(theta)).astype(np.float32).tolist()
    gap_before = (has_gap & (j == half)).tolist()
    category = _categories(layout, counts, category_count)[row_of_seat].tolist()
    seat_type = _seat_types(bowl, layout, row_of_seat, j, n).tolist()
    numbers = [str(v) for v in (j + 1).tolist()]
    names: dict[int, str] = {}
    sections_in_tier = [0] * len(bowl.tiers)
    for r in np.flatnonzero(counts).tolist():
        sec = int(layout.section[r])
        if sec not in names:
            tier = int(layout.section_tier[sec])
            sections_in_tier[tier] += 1
            names[sec] = f"{tier + 1}{sections_in_tier[tier]:02d}"
            theta_a, theta_b = layout.section_bounds[sec]
            outline = section_outline(bowl, bowl.tiers[tier], theta_a, theta_b) + centre
            section_index = builder.add_section(
                names[sec],
                names[sec],
                section_color(sec),
                tuple((float(px), float(py)) for px, py in outline.tolist()),
            )
        label = row_label(int(layout.row_in_tier[r]))
        first = int(starts[r])
        prefix = f"{names[sec]}-{label}-"
        records = [
            SeatRecord(
                external_id=prefix + numbers[i],
                label=numbers[i],
                x=x[i],
                y=y[i],
                category_index=category[i],
                radius=SEAT_RADIUS_CM,
                accessible=seat_type[i] == SeatType.WHEELCHAIR,
                seat_type=_SEAT_TYPES[seat_type[i]],
                gap_before=gap_before[i],
            )
            for i in range(first, first + int(counts[r]))
        ]
        builder.add_row(section_index, label, records)


def _categories(
    layout: SectionRows, counts: np.ndarray[tuple[int], np.dtype[np.int64]], category_count: int
) -> np.ndarray[tuple[int], np.dtype[np.int64]]:
    """Category per (section, row): rows by distance, nearest first, cut into equal shares."""
    radii, row_radius = np.unique(layout.radius, return_inverse=True)
    seats_at = np.bincount(row_radius, weights=counts, minlength=len(radii))
    seats_before = np.cumsum(seats_at) - seats_at
    band = np.floor(seats_before * category_count / max(float(counts.sum()), 1.0))
    return np.minimum(band, category_count - 1).astype(np.int64)[row_radius]


def _seat_types(
    bowl: Bowl,
    layout: SectionRows,
    row_of_seat: np.ndarray[tuple[int], np.dtype[np.int64]],
    j: np.ndarray[tuple[int], np.dtype[np.int64]],
    n: np.ndarray[tuple[int], np.dtype[np.int64]],
) -> np.ndarray[tuple[int], np.dtype[np.uint8]]:
    """Seat types: a wheelchair place with a companion beside it at both ends of each
    tier's back row; restricted view under a theater balcony."""
    kinds = np.full(len(j), int(SeatType.STANDARD), dtype=np.uint8)
    tier = layout.tier[row_of_seat]
    rows_in_tier = np.array([t.rows for t in bowl.tiers])[tier]
    back = layout.row_in_tier[row_of_seat] == rows_in_tier - 1
    if not bowl.full_ring and len(bowl.tiers) > 1:
        # A theater's back stalls rows sit under the balcony's overhang.
        under = layout.row_in_tier[row_of_seat] >= rows_in_tier - 2
        kinds[under & (tier == 0)] = SeatType.RESTRICTED_VIEW
    both_ends = back & (n >= 4)
    kinds[back & (n >= 2) & (j == 0)] = SeatType.WHEELCHAIR
    kinds[back & (n >= 2) & (j == 1)] = SeatType.COMPANION
    kinds[both_ends & (j == n - 1)] = SeatType.WHEELCHAIR
    kinds[both_ends & (j == n - 2)] = SeatType.COMPANION
    return kinds
