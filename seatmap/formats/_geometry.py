"""Small vectorised plane geometry used by the readers and the generator."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from seatmap.model import Point

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def points_in_polygon(x: FloatArray, y: FloatArray, polygon: FloatArray) -> BoolArray:
    """For each point (x[i], y[i]), whether it lies inside `polygon` (even-odd rule).

    `polygon` is an (m, 2) array of vertices; the loop runs over its edges and
    every step is vectorised over the points.
    """
    inside = np.zeros(x.shape, dtype=np.bool_)
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for ax, ay, bx, by in zip(x0.tolist(), y0.tolist(), x1.tolist(), y1.tolist(), strict=True):
        if ay == by:
            continue
        crosses = (ay > y) != (by > y)
        x_at = ax + (y - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (x < x_at)
    return inside


def convex_hull(points: FloatArray) -> FloatArray:
    """The convex hull of (n, 2) points, counter-clockwise in y-up terms, no repeats."""
    unique = np.unique(points, axis=0)
    if len(unique) < 3:
        return unique
    pts = unique.tolist()

    def half(seq: list[list[float]]) -> list[list[float]]:
        out: list[list[float]] = []
        for p in seq:
            while len(out) >= 2:
                (ox, oy), (ax, ay) = out[-2], out[-1]
                if (ax - ox) * (p[1] - oy) - (ay - oy) * (p[0] - ox) > 0:
                    break
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1], dtype=np.float64)


def padded_hull(x: FloatArray, y: FloatArray, pad: float) -> tuple[Point, ...]:
    """A convex outline that holds a disc of radius `pad` around every point.

    Each hull vertex becomes a regular octagon circumscribing its disc, and the
    outline is the hull of those octagons; so every disc lies strictly inside.
    """
    hull = convex_hull(np.column_stack([x, y]))
    radius = pad / math.cos(math.pi / 8)
    angles = np.arange(8) * (math.pi / 4) + math.pi / 8
    ox = (hull[:, 0:1] + radius * np.cos(angles)[None, :]).ravel()
    oy = (hull[:, 1:2] + radius * np.sin(angles)[None, :]).ravel()
    outline = convex_hull(np.column_stack([ox, oy]))
    return tuple((float(px), float(py)) for px, py in outline.tolist())


def rotate(points: FloatArray, pivot: Point, degrees: float) -> FloatArray:
    """Rotate (n, 2) points about `pivot`, clockwise on screen (y grows down)."""
    if degrees == 0:
        return points
    theta = math.radians(degrees)
    c, s = math.cos(theta), math.sin(theta)
    dx = points[:, 0] - pivot[0]
    dy = points[:, 1] - pivot[1]
    return np.column_stack([pivot[0] + c * dx - s * dy, pivot[1] + s * dx + c * dy])
