"""Pre-render: the on-disk pyramid, its reuse, and the records it stores."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from seatmap.grid import grid_for
from tests.tileserver.conftest import Hall
from tests.venues import grid_venue
from tileserver import compose
from tileserver.pyramid import TileKey
from tileserver.record import record_from_buffer
from tileserver.render import style
from tileserver.render.prerender import ensure_pyramid, is_rendered
from tileserver.store import PyramidStore


def test_pyramid_has_every_zoom_at_both_densities(hall: Hall) -> None:
    manifest = json.loads((hall.pyramid / "manifest.json").read_text())
    assert manifest["content_hash"] == hall.venue.content_hash
    assert manifest["grid"]["max_zoom"] == hall.grid.max_zoom
    for z in range(hall.grid.max_zoom + 1):
        for density in (1, 2):
            index = np.load(hall.pyramid / f"z{z}@{density}x.idx.npy")
            nx, ny = hall.grid.tile_count(z)
            assert index.size == nx * ny
            assert index["present"].all()


def test_ensure_pyramid_is_a_no_op_when_rendered(hall: Hall) -> None:
    stamp = (hall.pyramid / "manifest.json").stat().st_mtime_ns
    started = time.monotonic()
    again = ensure_pyramid(hall.venue, hall.pyramid.parent, workers=2, progress=False)
    assert again == hall.pyramid
    assert time.monotonic() - started < 0.5
    assert (hall.pyramid / "manifest.json").stat().st_mtime_ns == stamp


def test_a_changed_venue_gets_its_own_pyramid(tmp_path: Path, capsys: object) -> None:
    small = grid_venue(sections=1, rows=2, seats_per_row=4, name="Tiny")
    other = grid_venue(sections=1, rows=2, seats_per_row=5, name="Tiny")
    a = ensure_pyramid(small, tmp_path, workers=1, progress=True)
    b = ensure_pyramid(other, tmp_path, workers=1, progress=False)
    assert a != b and is_rendered(small, tmp_path) and is_rendered(other, tmp_path)
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "pre-render Tiny" in err and "100%" in err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no scratch left


def test_stored_record_composes_to_the_classes_given(hall: Hall) -> None:
    """A record's runs expand to one filter byte plus one palette index per pixel."""
    store = PyramidStore(hall.pyramid, hall.grid)
    key = TileKey(hall.grid.detail_lod_zoom, 0, 0, 1)
    record = store.record(key)
    assert record is not None and record.slots.size > 0
    statuses = np.zeros(hall.venue.seat_count, np.uint8)
    classes = style.seat_classes(hall.venue, statuses)
    raw = compose.scanlines(record, compose.slot_classes(record, classes))
    rows = raw.reshape(256, 257)
    assert (rows[:, 0] == 0).all()
    assert int(rows[:, 1:].max()) < record.palette.shape[0]
    copy = record_from_buffer(record.to_bytes(), 0, 256, record.flags, *record.counts())
    assert np.array_equal(compose.scanlines(copy, compose.slot_classes(copy, classes)), raw)
    store.close()


def test_grid_of_the_test_hall_matches_the_shared_grid(hall: Hall) -> None:
    assert grid_for(hall.venue) == hall.grid
