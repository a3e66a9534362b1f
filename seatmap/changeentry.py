"""One change-log entry as the change feed hands it to local subscribers.

Entries are written to each event's Stream by the lock service's scripts (fields
`kind`, `status`, `seats`, see `seatmap.livekeys`); `parse_entry` decodes one as
XREAD/XRANGE return it. A `reset` entry tells subscribers to reload everything as
of its id.

An entry that is not a change in that format (another writer's, damage) raises
`BadEntry`. Every reader of the log skips such an entry through `decode_entry`:
logged once as an error with the event and entry id, counted in
`seatmap_changelog_bad_entries_total{reader}`, and the reader goes on with the
next entry. The entry carried nothing usable, so skipping it loses nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from seatmap.metrics import Metrics
from seatmap.status import STATUS_NAMES

log = logging.getLogger(__name__)


class BadEntry(ValueError):
    """A change-log entry that cannot be decoded: nothing in it can be applied."""


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
    """Decode one raw XREAD/XRANGE entry of a Stream of `generation` into a ChangeEntry.

    Raises BadEntry unless `kind` is UTF-8 text, `status` a known seat status and
    `seats` comma-separated non-negative integers.
    """
    raw_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    raw_seats = fields.get(b"seats", b"")
    try:
        kind = fields.get(b"kind", b"").decode()
        status = int(fields.get(b"status", b"0"))
        seats = (
            np.array(raw_seats.split(b","), dtype=np.int64) if raw_seats else np.empty(0, np.int64)
        )
    except (UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise BadEntry(str(exc)) from None
    if status not in STATUS_NAMES:
        raise BadEntry(f"no seat status {status}")
    if seats.size and int(seats.min()) < 0:
        raise BadEntry("a negative seat index")
    return ChangeEntry(id=raw_id, kind=kind, status=status, seats=seats, generation=generation)


def decode_entry(
    event_id: int,
    entry_id: bytes | str,
    fields: dict[bytes, bytes],
    generation: str,
    reader: str,
    metrics: Metrics | None,
) -> ChangeEntry | None:
    """The parsed entry, or None for one that cannot be decoded, which is logged (error)
    and counted under `reader` (one of `seatmap.metrics.CHANGELOG_READERS`): skip it."""
    try:
        return parse_entry(entry_id, fields, generation)
    except BadEntry as exc:
        skip_entry(event_id, entry_id, reader, metrics, str(exc))
        return None


def skip_entry(
    event_id: int, entry_id: bytes | str, reader: str, metrics: Metrics | None, why: str
) -> None:
    """Log (error) and count one change-log entry that `reader` skips as unusable."""
    raw_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    log.error("change log of event %s: %s skips entry %s, which it cannot decode: %s",
              event_id, reader, raw_id, why)  # fmt: skip
    if metrics is not None:
        metrics.changelog_bad_entries.labels(reader).inc()


def reset_entry(entry_id: str, generation: str) -> ChangeEntry:
    """An entry that tells subscribers to reload everything as of `entry_id`."""
    return ChangeEntry(entry_id, "reset", 0, np.empty(0, np.int64), generation)
