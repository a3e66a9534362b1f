"""Bowl geometry for the synthetic venue generator: tiers, sections and row capacities.

A venue is a set of tiers (rings of rows) around one centre: a fan facing the
stage for a theater, a full ring around the floor or field for an arena or a
stadium. Each tier is cut into sections by aisles of constant width, so the
side of a section is a straight line parallel to the radius at its boundary
angle, offset by half an aisle. Seats sit on arcs (rows) at a constant pitch.
Units are centimetres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SEAT_RADIUS_CM = 22.0
# Clearance kept between a seat's disc and the aisle edge of its section.
EDGE_CLEARANCE_CM = 1.0


@dataclass(frozen=True, slots=True)
class Tier:
    """One ring of rows: its inner radius, number of rows and sections."""

    inner_radius: float
    rows: int
    sections: int


@dataclass(frozen=True, slots=True)
class Bowl:
    """The tiers around one centre and the dimensions they share."""

    theta_start: float  # radians, y grows down so pi/2 points down the page
    theta_span: float
    tiers: tuple[Tier, ...]
    seat_pitch: float
    row_depth: float
    aisle_half_width: float
    tier_gap: float
    section_arc: float  # wanted arc length of a section at the tier's middle row
    max_sections: int

    @property
    def full_ring(self) -> bool:
        """Whether the tiers go all the way round."""
        return self.theta_span >= 2 * math.pi - 1e-9

    @property
    def outer_radius(self) -> float:
        """Radius of the back edge of the last tier."""
        last = self.tiers[-1]
        return last.inner_radius + last.rows * self.row_depth


@dataclass(frozen=True, slots=True)
class SectionRows:
    """Every row of every section, flattened: one entry per (section, row)."""

    section: IntArray  # running section number over all tiers
    tier: IntArray
    row_in_tier: IntArray
    radius: FloatArray  # radius of the row's seat centres
    theta_lo: FloatArray  # usable angle range for seat centres
    theta_hi: FloatArray
    capacity: IntArray  # seats that fit, one fewer when a mid-row aisle is needed
    section_bounds: FloatArray  # (sections, 2): boundary angles of each section
    section_tier: IntArray


def sections_for(bowl: Bowl, inner_radius: float, rows: int) -> int:
    """How many sections a tier gets: about one per `section_arc` at its middle row."""
    middle = inner_radius + rows * bowl.row_depth / 2
    count = round(bowl.theta_span * middle / bowl.section_arc)
    if not bowl.full_ring and count % 2 == 0:
        count += 1  # a fan has a centre section facing the stage straight on
    return int(min(max(count, 3 if bowl.full_ring else 1), bowl.max_sections))


def stack_tiers(bowl: Bowl, first_radius: float, rows: list[int]) -> Bowl:
    """The bowl with tiers of the given row counts, each behind the previous one."""
    tiers: list[Tier] = []
    radius = first_radius
    for count in rows:
        tiers.append(Tier(radius, count, sections_for(bowl, radius, count)))
        radius += count * bowl.row_depth + bowl.tier_gap
    return Bowl(
        bowl.theta_start,
        bowl.theta_span,
        tuple(tiers),
        bowl.seat_pitch,
        bowl.row_depth,
        bowl.aisle_half_width,
        bowl.tier_gap,
        bowl.section_arc,
        bowl.max_sections,
    )


def section_rows(bowl: Bowl, mid_row_aisle_after: int) -> SectionRows:
    """Lay out every (section, row): radius, usable angles and seat capacity."""
    sections, tiers_of_rows, rows_in_tier, radii, bounds, section_tier = [], [], [], [], [], []
    section_number = 0
    for t, tier in enumerate(bowl.tiers):
        edges = bowl.theta_start + bowl.theta_span * np.arange(tier.sections + 1) / tier.sections
        for s in range(tier.sections):
            bounds.append((edges[s], edges[s + 1]))
            section_tier.append(t)
            for k in range(tier.rows):
                sections.append(section_number)
                tiers_of_rows.append(t)
                rows_in_tier.append(k)
                radii.append(tier.inner_radius + (k + 0.5) * bowl.row_depth)
            section_number += 1
    section = np.array(sections, dtype=np.int64)
    radius = np.array(radii, dtype=np.float64)
    bound = np.array(bounds, dtype=np.float64).reshape(-1, 2)
    keep_off = bowl.aisle_half_width + SEAT_RADIUS_CM + EDGE_CLEARANCE_CM
    inset = np.arcsin(np.clip(keep_off / radius, 0.0, 1.0))
    theta_lo = bound[section, 0] + inset
    theta_hi = bound[section, 1] - inset
    arc = np.maximum(radius * (theta_hi - theta_lo), -bowl.seat_pitch)
    fits = np.floor(arc / bowl.seat_pitch).astype(np.int64) + 1
    capacity = np.where(fits > mid_row_aisle_after, fits - 1, fits)
    return SectionRows(
        section=section,
        tier=np.array(tiers_of_rows, dtype=np.int64),
        row_in_tier=np.array(rows_in_tier, dtype=np.int64),
        radius=radius,
        theta_lo=theta_lo,
        theta_hi=theta_hi,
        capacity=np.maximum(capacity, 0),
        section_bounds=bound,
        section_tier=np.array(section_tier, dtype=np.int64),
    )


def share_out(capacity: IntArray, total: int) -> IntArray:
    """Seats per row: proportional to capacity, never above it, summing to `total`."""
    available = int(capacity.sum())
    if available < total:
        raise ValueError(f"layout holds {available} seats, fewer than {total}")
    exact = capacity * (total / available)
    counts: IntArray = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def section_outline(bowl: Bowl, tier: Tier, theta_a: float, theta_b: float) -> FloatArray:
    """The outline of one section, (m, 2) offsets from the centre.

    Sides are the aisle edges (straight lines half an aisle from the boundary
    radii); the back arc is sampled finely enough that its chords stay behind
    the last row's seats.
    """
    inner = tier.inner_radius
    outer = inner + tier.rows * bowl.row_depth
    h = bowl.aisle_half_width
    in_a, in_b = theta_a + math.asin(h / inner), theta_b - math.asin(h / inner)
    out_a, out_b = theta_a + math.asin(h / outer), theta_b - math.asin(h / outer)
    sagitta = bowl.row_depth / 8
    step = math.sqrt(8 * sagitta / outer)
    n_out = max(2, math.ceil((out_b - out_a) / step) + 1)
    n_in = max(2, math.ceil((in_b - in_a) / math.sqrt(8 * sagitta / inner)) + 1)
    angles_in = np.linspace(in_a, in_b, n_in)
    angles_out = np.linspace(out_b, out_a, n_out)
    xs = np.concatenate([inner * np.cos(angles_in), outer * np.cos(angles_out)])
    ys = np.concatenate([inner * np.sin(angles_in), outer * np.sin(angles_out)])
    return np.column_stack([xs, ys])


def row_label(index: int) -> str:
    """Row labels as in real venues: A..Z, then AA, AB, ... (index 0 is "A")."""
    label = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        label = chr(ord("A") + rem) + label
    return label
