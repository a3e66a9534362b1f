"""The bytes of the live stream: positions, change messages, resets and heartbeats.

A position names one change-log entry in one life of the event's Stream:
`"<ms>-<seq>.<generation>"`, the Stream id and the generation token kept beside
the Stream (`seatmap.livekeys.generation_key`). It is the SSE `id` of every
message and the ETag of the status snapshot, so a client that resumes with
Last-Event-ID names exactly what it has; an id of another life of the Stream
(Redis restarted empty) or without a generation cannot be proven continuous
and gets a reset, as does anything that is not a position (`parse_position`).

A message carries one or more consecutive entries: `data` =
`{"kind", "seats": [[index, status], ...], "dirty": {"z": [[x0, y0, x1, y1], ...]}}`
with public statuses (confirming shows as held). Several entries (coalesced
under load) give each seat its last status, `kind` "batch" when they differ,
and the id of the last entry.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import orjson

from seatmap.changefeed import ChangeEntry
from seatmap.context import EventView
from seatmap.grid import dirty_tiles
from seatmap.status import PUBLIC_STATUS

StreamId = tuple[int, int]
HEARTBEAT = b": hb\n\n"
MEMO_KEY = "lockservice.sse"
POSITION_RE = re.compile(r"([0-9]{1,20})-([0-9]{1,20})\.([0-9a-f]{1,32})")
MAX_PART = 2**64 - 1  # each part of a Stream id is an unsigned 64-bit number
PUBLIC_TABLE = bytes(PUBLIC_STATUS.get(i, i) for i in range(256))
PUBLIC_LUT = np.frombuffer(PUBLIC_TABLE, dtype=np.uint8)


def stream_id(text: str) -> StreamId:
    """A Stream id "ms-seq" as a comparable pair."""
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def position(entry_id: str, generation: str) -> str:
    """The client-facing position of an entry of a Stream generation."""
    return f"{entry_id}.{generation}" if generation else entry_id


def parse_position(text: str | None) -> tuple[StreamId, str] | None:
    """(Stream id, generation) of a position a client sent, or None unless it is one:
    "<ms>-<seq>.<generation>" in ASCII digits and lower-case hex, each part of the Stream
    id within 64 bits (what Redis accepts), so it never reaches Redis as an invalid id."""
    found = POSITION_RE.fullmatch((text or "").strip())
    if found is None:
        return None
    sid = int(found.group(1)), int(found.group(2))
    if sid[0] > MAX_PART or sid[1] > MAX_PART:
        return None
    return sid, found.group(3)


def reset_message(at: str, reason: str) -> bytes:
    """`event: reset`: reload the status snapshot; resume from position `at` afterwards."""
    data = orjson.dumps({"reason": reason}).decode()
    id_line = f"id: {at}\n" if at and not at.startswith("0-0") else ""
    return f"{id_line}event: reset\ndata: {data}\n\n".encode()


def _message(at: str, kind: str, seats: npt.NDArray[np.int64], status: npt.NDArray[np.uint8],
             view: EventView) -> bytes:  # fmt: skip
    dirty = dirty_tiles(view.venue, view.grid, seats)
    data = orjson.dumps(
        {
            "kind": kind,
            "seats": np.column_stack((seats, PUBLIC_LUT[status])).tolist(),
            "dirty": {str(z): rects for z, rects in dirty.items()},
        }
    )
    return b"id: " + at.encode() + b"\ndata: " + data + b"\n\n"


def sse_message(entry: ChangeEntry, view: EventView) -> bytes:
    """The SSE bytes of one change-log entry, built once per entry and process."""
    cached: bytes | None = entry.memo.get(MEMO_KEY)
    if cached is None:
        at = position(entry.id, entry.generation)
        if entry.kind == "reset":
            cached = reset_message(at, "reload")
        else:
            seats = _valid(entry.seats, view)
            status = np.full(seats.size, entry.status, dtype=np.uint8)
            cached = _message(at, entry.kind, seats, status, view)
        entry.memo[MEMO_KEY] = cached
    return cached


def batch_message(entries: list[ChangeEntry], view: EventView) -> bytes:
    """One message for consecutive non-reset entries: each seat's last status, the last id."""
    if len(entries) == 1:
        return sse_message(entries[0], view)
    seats = np.concatenate([e.seats for e in entries])
    status = np.concatenate([np.full(e.seats.size, e.status, dtype=np.uint8) for e in entries])
    # np.unique keeps the first occurrence: look from the newest end for the last status.
    unique, newest = np.unique(seats[::-1], return_index=True)
    keep = (unique >= 0) & (unique < view.venue.seat_count)
    kinds = {e.kind for e in entries}
    kind = kinds.pop() if len(kinds) == 1 else "batch"
    last = entries[-1]
    return _message(
        position(last.id, last.generation), kind, unique[keep], status[::-1][newest][keep], view
    )


def _valid(seats: npt.NDArray[np.int64], view: EventView) -> npt.NDArray[np.int64]:
    return seats[(seats >= 0) & (seats < view.venue.seat_count)]
