"""One pre-rendered tile: its palette, its dynamic slots and its run-length pixels.

A tile is stored as the byte stream a PNG encoder deflates (each row a filter
byte 0 then one palette index per pixel), run-length encoded. Each run has a
length, a slot (0 = static: `code` is the palette index; s > 0: the pixels
belong to slot s-1, a seat or section whose class is looked up per request)
and a code (for a slot: the "kind" of pixel: coverage levels and the colour
underneath). The palette holds the static colours followed by one block of
`kind_count` colours per class that can occur in the tile; `class_block[c]`
is the first palette index of class c's block. So per request:
`index = class_block[class_of(slot)] + code` for every run, then repeat.

Binary layout (little-endian, 8-byte aligned sections):
  slots u32[n_slots] | run_len u16[n_runs] | run_slot u16[n_runs] |
  run_code u8[n_runs] | palette u8[3 * n_palette] | class_block u8[n_classes]
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SOLID = 1  # flag: every pixel is palette entry 1 (or 0: transparent); no runs
HAS_SLOTS = 2


def _pad8(n: int) -> int:
    return (n + 7) & ~7


@dataclass(frozen=True, slots=True, eq=False)
class TileRecord:
    """The stored form of one tile at one density."""

    size_px: int
    flags: int
    palette: npt.NDArray[np.uint8]  # (n_palette, 3); entry 0 is transparent
    class_block: npt.NDArray[np.uint8]  # (n_classes,)
    slots: npt.NDArray[np.uint32]  # global seat or section index of each slot
    run_len: npt.NDArray[np.uint16]
    run_slot: npt.NDArray[np.uint16]
    run_code: npt.NDArray[np.uint8]

    @property
    def solid(self) -> bool:
        """True when the tile is one flat colour with nothing live on it."""
        return bool(self.flags & SOLID)

    def to_bytes(self) -> bytes:
        """Serialise in the layout described in the module docstring."""
        parts = [
            self.slots.astype("<u4").tobytes(),
            self.run_len.astype("<u2").tobytes(),
            self.run_slot.astype("<u2").tobytes(),
            self.run_code.astype(np.uint8).tobytes(),
            self.palette.astype(np.uint8).tobytes(),
            self.class_block.astype(np.uint8).tobytes(),
        ]
        return b"".join(p + b"\0" * (_pad8(len(p)) - len(p)) for p in parts)

    def counts(self) -> tuple[int, int, int, int]:
        """(n_slots, n_runs, n_palette, n_classes) for the index file."""
        return (
            int(self.slots.size),
            int(self.run_len.size),
            int(self.palette.shape[0]),
            int(self.class_block.size),
        )


def record_nbytes(n_slots: int, n_runs: int, n_palette: int, n_classes: int) -> int:
    """Serialised size of a record with these array lengths."""
    return (_pad8(4 * n_slots) + 2 * _pad8(2 * n_runs) + _pad8(n_runs) + _pad8(3 * n_palette)
            + _pad8(n_classes))


def record_from_buffer(
    buffer: memoryview | bytes | mmap.mmap | npt.NDArray[np.uint8],
    offset: int,
    size_px: int,
    flags: int,
    n_slots: int,
    n_runs: int,
    n_palette: int,
    n_classes: int,
) -> TileRecord:
    """Zero-copy views of one serialised record inside a larger buffer (e.g. an mmap)."""
    pos = offset

    def take(dtype: str, count: int, itemsize: int) -> npt.NDArray[np.generic]:
        nonlocal pos
        arr = np.frombuffer(buffer, dtype=dtype, count=count, offset=pos)
        pos += _pad8(count * itemsize)
        return arr

    slots = take("<u4", n_slots, 4)
    run_len = take("<u2", n_runs, 2)
    run_slot = take("<u2", n_runs, 2)
    run_code = take("u1", n_runs, 1)
    palette = take("u1", 3 * n_palette, 1).reshape(n_palette, 3)
    class_block = take("u1", n_classes, 1)
    return TileRecord(size_px, flags, palette, class_block, slots,  # type: ignore[arg-type]
                      run_len, run_slot, run_code)  # type: ignore[arg-type]


def solid_record(size_px: int, color: tuple[int, int, int] | None, n_classes: int) -> TileRecord:
    """A flat tile of one colour (None: transparent)."""
    palette = np.zeros((2 if color is not None else 1, 3), dtype=np.uint8)
    if color is not None:
        palette[1] = color
    return TileRecord(
        size_px,
        SOLID,
        palette,
        np.zeros(n_classes, np.uint8),
        np.zeros(0, np.uint32),
        np.zeros(0, np.uint16),
        np.zeros(0, np.uint16),
        np.zeros(0, np.uint8),
    )
