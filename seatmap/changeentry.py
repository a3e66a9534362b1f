"""One change-log entry as the change feed hands it to local subscribers.

Entries are written to each event's Stream by the lock service's scripts (fields
`kind`, `status`, `seats`); `parse_entry` decodes one as XREAD/XRANGE return it.
A `reset` entry tells subscribers to reload everything as of its id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class ChangeEntry:
    """One parsed change-log entry. `kind == "reset"` means: reload everything."""

    id: str
    kind: str
    status: int
    seats: npt.NDArray[np.int64]
    # The generation token of the Stream the entry was read from ("" if not known).
    generation: str = ""
    # Per-entry memo for consumers that serialise once for many clients.
    memo: dict[str, Any] = field(default_factory=dict, compare=False)


def parse_entry(
    entry_id: bytes | str, fields: dict[bytes, bytes], generation: str = ""
) -> ChangeEntry:
    """Decode one raw XREAD/XRANGE entry of a Stream of `generation` into a ChangeEntry."""
    raw_seats = fields.get(b"seats", b"")
    seats = np.array(raw_seats.split(b","), dtype=np.int64) if raw_seats else np.empty(0, np.int64)
    return ChangeEntry(
        id=entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
        kind=fields.get(b"kind", b"").decode(),
        status=int(fields.get(b"status", b"0")),
        seats=seats,
        generation=generation,
    )


def reset_entry(entry_id: str, generation: str) -> ChangeEntry:
    """An entry that tells subscribers to reload everything as of `entry_id`."""
    return ChangeEntry(entry_id, "reset", 0, np.empty(0, np.int64), generation)
