"""The per-request composite: run-length tile + live classes -> PNG scanline bytes.

No drawing happens here. For each run, the palette index is the run's code
plus the palette block of its slot's current class (0 for static runs); the
runs are then expanded into the raw scanlines (filter byte 0 + indices) that
the PNG encoder deflates as they are.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tileserver.record import TileRecord

U8 = npt.NDArray[np.uint8]


def slot_classes(record: TileRecord, classes: U8) -> U8:
    """The current class of each slot of a tile, from a per-seat or per-section array."""
    if record.slots.size == 0:
        return np.zeros(0, np.uint8)
    return classes.take(record.slots)


def scanlines(record: TileRecord, slot_class: U8) -> U8:
    """The tile's raw PNG scanlines for these slot classes (one byte per pixel)."""
    blocks = np.zeros(slot_class.size + 1, np.uint8)
    if slot_class.size:
        blocks[1:] = record.class_block.take(slot_class)
    values = blocks.take(record.run_slot)
    values += record.run_code
    return np.repeat(values, record.run_len)


def indices(record: TileRecord, slot_class: U8) -> U8:
    """The tile's palette indices as an (H, W) array (for WebP and tests)."""
    size = record.size_px
    if record.solid:
        return np.full((size, size), record.palette.shape[0] - 1, np.uint8)
    return scanlines(record, slot_class).reshape(size, size + 1)[:, 1:]
