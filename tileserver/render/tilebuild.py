"""Turn one tile's drawn layers into a `TileRecord` (palette, slots, runs).

Inputs are what the pre-render drew for the tile: the static ground under
the live layer, an optional static overlay above it (section outlines and
names), and the live layer itself as per-pixel slot, outer coverage, inner
coverage and seat-number coverage. Every live pixel becomes a "kind": the
palette index of the colour underneath, the quantised coverages and what is
drawn on top. The palette then gets, for each class that can occur in the
tile, one block with the colour of every kind in that class, so the request
path only adds a block start to each run's code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tileserver.record import HAS_SLOTS, TileRecord, solid_record
from tileserver.render import quantize
from tileserver.render.style import ClassLook

PALETTE_SIZE = 256
STATIC_BUDGET = 48  # palette entries for static colours, transparent included
# Coverage levels (outer/inner, overlay) tried in turn until the palette fits.
LEVELS = ((6, 3), (5, 3), (4, 2), (3, 2), (2, 1), (1, 1))
MAX_RUN = 0xFFFF
TEXT_OVERLAY = 255  # overlay "colour" meaning: the class's own text colour

U8 = npt.NDArray[np.uint8]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
_LEVEL_LUTS: dict[int, U8] = {
    n: ((np.arange(256) * n + 127) // 255).astype(np.uint8) for n in range(1, 9)
}


@dataclass(slots=True)
class TileLayers:
    """What was drawn for one tile (all arrays H x W, flattened where noted)."""

    size_px: int
    ground: U8  # (H, W, 4) premultiplied RGBA under the live layer
    overlay: U8 | None  # (H, W, 4) premultiplied RGBA above it, or None
    slot: npt.NDArray[np.int32]  # (H*W,) 0 = no live item, s = slots[s-1]
    outer: U8  # (H*W,) outer coverage 0..255
    inner: U8  # (H*W,) inner coverage 0..255
    text: U8 | None  # (H*W,) seat-number coverage 0..255
    slots: npt.NDArray[np.uint32]  # global seat or section index per slot
    slot_classes: I64  # (n_slots, k): the classes each slot can take
    looks: Sequence[ClassLook]


@dataclass(slots=True)
class _Live:
    """The live pixels of a tile and what lies under and over each."""

    idx: I64
    slot: I64
    slots: npt.NDArray[np.uint32]  # global id of each (renumbered) slot
    bed: I32
    outer: U8
    inner: U8
    over_color: I32 | None  # static palette index, TEXT_OVERLAY, or 0 for none
    over_alpha: U8 | None  # None: nothing drawn over the live layer
    present: I64  # classes that can occur in the tile


def _over_keys(
    overlay: U8, ground_keys: npt.NDArray[np.uint32], px: I64
) -> npt.NDArray[np.uint32]:
    """Packed colours of premultiplied overlay pixels `px` composited over the ground."""
    top = overlay[px].astype(np.uint32)
    under = quantize.unpack_rgb(ground_keys[px] & np.uint32(0xFFFFFF)).astype(np.uint32)
    alpha = top[:, 3:4]
    rgb = np.minimum(top[:, :3] + (under * (255 - alpha) + 127) // 255, 255).astype(np.uint8)
    return quantize.pack_rgb(rgb)


def _unpremultiply(rgba: U8) -> U8:
    alpha = np.maximum(rgba[:, 3:4].astype(np.uint16), 1)
    return np.minimum(rgba[:, :3].astype(np.uint16) * 255 // alpha, 255).astype(np.uint8)


def _runs(values: npt.NDArray[np.generic]) -> tuple[I64, I64]:
    """Start and length of every run of equal values."""
    starts = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate(([0], starts))
    return starts, np.diff(np.append(starts, values.size))


def build_record(layers: TileLayers) -> TileRecord:
    """Quantise, classify and run-length encode one tile."""
    size = layers.size_px
    n_classes = len(layers.looks)
    ground = np.ascontiguousarray(layers.ground).reshape(-1, 4)
    ground_u32 = ground.view("<u4").ravel()
    opaque = np.uint32(0x80000000)
    # The ground is mostly flat fills: quantise its runs, not its pixels.
    g_starts, g_len = _runs(ground_u32)
    g_vals = ground_u32[g_starts]
    g_inside = g_vals >= opaque
    keys = [g_vals[g_inside] & np.uint32(0xFFFFFF)]
    weights = [g_len[g_inside]]
    live_idx = np.flatnonzero(layers.outer >= 16)
    live_idx = live_idx[(layers.slot[live_idx] > 0) & (ground_u32[live_idx] >= opaque)]
    overlay = layers.overlay.reshape(-1, 4) if layers.overlay is not None else None
    over_px = np.zeros(0, np.int64)
    over_keys = np.zeros(0, np.uint32)
    if overlay is not None:
        over_px = np.flatnonzero(overlay[:, 3])
        over_px = over_px[ground_u32[over_px] >= opaque]
        over_keys = _over_keys(overlay, ground_u32, over_px)
        over_live = live_idx[overlay[live_idx, 3] > 0]
        keys += [over_keys, quantize.pack_rgb(_unpremultiply(overlay[over_live]))]
        weights += [np.ones(over_keys.size, np.int64), np.ones(over_live.size, np.int64)]
    quant = quantize.fit(np.concatenate(keys), STATIC_BUDGET, np.concatenate(weights))
    run_code = np.where(g_inside, quant.index(g_vals & np.uint32(0xFFFFFF)), 0).astype(np.uint8)
    ground_code = np.repeat(run_code, g_len)
    static_code = ground_code
    if over_px.size:
        static_code = ground_code.copy()
        static_code[over_px] = quant.index(over_keys)
    if not live_idx.size:
        if g_starts.size == 1 and not over_px.size:
            first = int(run_code[0])
            color = tuple(int(c) for c in quant.palette[first]) if first else None
            return solid_record(size, color, n_classes)  # type: ignore[arg-type]
        return _encode(size, quant.palette, np.zeros(n_classes, np.uint8), static_code,
                       np.zeros(0, np.uint32), 0)
    slot = layers.slot[live_idx].astype(np.int64)
    over_alpha: U8 | None = None
    over_color: I32 | None = None
    if overlay is not None:
        ov = overlay[live_idx]
        over_alpha = ov[:, 3].copy()
        over_color = quant.index(quantize.pack_rgb(_unpremultiply(ov))).astype(np.int32)
    if layers.text is not None:
        text = layers.text[live_idx]
        has_text = np.flatnonzero(text)
        if has_text.size:
            if over_alpha is None or over_color is None:
                over_alpha = np.zeros(live_idx.size, np.uint8)
                over_color = np.zeros(live_idx.size, np.int32)
            over_color[has_text] = TEXT_OVERLAY
            over_alpha[has_text] = text[has_text]
    # Keep only slots with pixels here, so a tile's ETag follows exactly what it shows.
    used_slots = np.flatnonzero(np.bincount(slot, minlength=layers.slots.size + 1))
    renumber = np.zeros(layers.slots.size + 1, np.int64)
    renumber[used_slots] = np.arange(1, used_slots.size + 1)
    live_px = _Live(
        idx=live_idx,
        slot=renumber[slot],
        slots=layers.slots[used_slots - 1],
        bed=ground_code[live_idx].astype(np.int32),
        outer=layers.outer[live_idx],
        inner=layers.inner[live_idx],
        over_color=over_color,
        over_alpha=over_alpha,
        present=np.unique(layers.slot_classes[used_slots - 1]),
    )
    return _build_live(layers, quant, static_code, live_px)


def _compact(values: I32, space: int) -> tuple[I32, I32]:
    """(distinct values in order, rank of each value) for small non-negative ints."""
    used = np.bincount(values, minlength=space) > 0
    rank = (np.cumsum(used) - 1).astype(np.int32)
    return np.flatnonzero(used).astype(np.int32), rank.take(values)


def _kinds(live: _Live, steps: int, ov_steps: int, flat_bed: bool) -> tuple[I32, I32]:
    """Kind index per live pixel plus the distinct (bed, a, b, over, g) combinations."""
    lut = _LEVEL_LUTS[steps]
    a = np.maximum(lut.take(live.outer), 1).astype(np.int32)
    b = lut.take(live.inner).astype(np.int32)
    bed = live.bed
    if flat_bed:
        bed = np.full_like(bed, int(np.bincount(bed).argmax()))
    n = steps + 1
    if live.over_alpha is not None:
        g = _LEVEL_LUTS[ov_steps].take(live.over_alpha).astype(np.int32)
        # Text sits inside the disc: draw it over a full disc or a full inner disc only.
        texted = np.flatnonzero((g > 0) & (live.over_color == TEXT_OVERLAY))
        a[texted] = steps
        b[texted] = np.where(b[texted] * 2 >= steps, steps, 0)
    # Fully inside both discs nothing underneath shows, whatever the class.
    bed = np.where((a == steps) & (b == steps), 0, bed)
    first, rank = _compact((bed * n + a) * n + b, (PALETTE_SIZE + 1) * n * n)
    if live.over_alpha is None:
        over_k = np.zeros(first.size, np.int32)
        g_k = np.zeros(first.size, np.int32)
        kind = rank
    else:
        assert live.over_color is not None
        over = np.where(g > 0, live.over_color, 0).astype(np.int32)
        second, kind = _compact((rank * 256 + over) * (ov_steps + 1) + g,
                                first.size * 256 * (ov_steps + 1))
        g_k = second % (ov_steps + 1)
        over_k = (second // (ov_steps + 1)) % 256
        first = first[second // (256 * (ov_steps + 1))]
    table = np.stack([first // (n * n), (first // n) % n, first % n, over_k, g_k], axis=1)
    return kind, table


def _build_live(
    layers: TileLayers, quant: quantize.Quantizer, static_code: U8, live: _Live
) -> TileRecord:
    budget = PALETTE_SIZE - quant.size
    attempts = [(s, o, False) for s, o in LEVELS] + [(1, 1, True)]
    for steps, ov_steps, flat_bed in attempts:
        kind, table = _kinds(live, steps, ov_steps, flat_bed)
        if table.shape[0] * live.present.size <= budget:
            break
    else:
        raise ValueError(f"tile palette cannot fit {live.present.size} classes")
    looks = [layers.looks[c] for c in live.present.tolist()]
    blocks = _block_colors(table, steps, ov_steps, quant.palette, looks)
    class_block = np.zeros(len(layers.looks), np.uint8)
    class_block[live.present] = quant.size + np.arange(live.present.size) * table.shape[0]
    palette = np.concatenate([quant.palette, blocks.reshape(-1, 3)])
    return _encode(layers.size_px, palette, class_block, static_code, live.slots, HAS_SLOTS,
                   live.idx, (live.slot * 256 + kind).astype(np.int32))


def _block_colors(
    table: I32, steps: int, ov_steps: int, static_palette: U8, looks: Sequence[ClassLook]
) -> U8:
    """(classes, kinds, 3): the colour of every kind (bed, a, b, over, g) per class look."""
    a = (table[:, 1] / steps)[None, :, None]
    b = (table[:, 2] / steps)[None, :, None]
    g = (table[:, 4] / ov_steps)[None, :, None]
    bed = static_palette[table[:, 0]].astype(np.float64)[None, :, :]
    outer = np.array([lk.outer for lk in looks], np.float64)[:, None, :]
    inner = np.array([lk.inner for lk in looks], np.float64)[:, None, :]
    inner_only = np.array([lk.inner_only for lk in looks])[:, None, None]
    layer = np.where(inner_only, inner, outer * (1 - b) + inner * b)
    alpha = np.where(inner_only, b, a)
    under = bed * (1 - alpha) + layer * alpha
    is_text = (table[:, 3] == TEXT_OVERLAY)[None, :, None]
    has_text = np.array([lk.text is not None for lk in looks])[:, None, None]
    text = np.array([lk.text or (0, 0, 0) for lk in looks], np.float64)[:, None, :]
    static_over = static_palette[np.minimum(table[:, 3], len(static_palette) - 1)]
    over = np.where(is_text, text, static_over[None, :, :].astype(np.float64))
    g = np.where(is_text & ~has_text, 0.0, g)
    out = under * (1 - g) + over * g
    colors: U8 = np.clip(np.round(out), 0, 255).astype(np.uint8)
    return colors


def _encode(
    size: int,
    palette: U8,
    class_block: U8,
    static_code: U8,
    slots: npt.NDArray[np.uint32],
    flags: int,
    live_idx: I64 | None = None,
    live_keys: I32 | None = None,
) -> TileRecord:
    """Run-length encode slot*256+code per pixel with a filter byte 0 before each row."""
    rows = np.zeros((size, size + 1), np.int32)
    rows[:, 1:] = static_code.reshape(size, size)
    flat = rows.ravel()
    if live_idx is not None and live_keys is not None:
        flat[live_idx + live_idx // size + 1] = live_keys
    starts, lengths = _runs(flat)
    values = flat[starts]
    if int(lengths.max()) > MAX_RUN:
        reps = (lengths + MAX_RUN - 1) // MAX_RUN
        values = np.repeat(values, reps)
        split = np.full(int(reps.sum()), MAX_RUN, np.int64)
        split[np.cumsum(reps) - 1] = lengths - (reps - 1) * MAX_RUN
        lengths = split
    return TileRecord(
        size,
        flags,
        palette.astype(np.uint8),
        class_block,
        slots.astype(np.uint32),
        lengths.astype(np.uint16),
        (values >> 8).astype(np.uint16),
        (values & 0xFF).astype(np.uint8),
    )
