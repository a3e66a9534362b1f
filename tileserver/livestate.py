"""Per-event seat and section classes, derived from the live status array.

The change feed keeps one status byte per seat current; tiles need each
seat's class (what it looks like) and each section's availability bucket.
Both are recomputed only when the feed's version moves, once per change for
all tiles of the event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from seatmap.changefeed import EventFollower
from seatmap.model import Venue
from tileserver.render import style

U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class LiveClasses:
    """Classes of every seat and section at one version of the event's statuses."""

    version: int
    statuses: U8
    seat_classes: U8
    section_classes: U8


def derive(venue: Venue, statuses: U8, version: int) -> LiveClasses:
    """Compute seat and section classes from a status array."""
    frozen = np.array(statuses[: venue.seat_count], dtype=np.uint8)
    if frozen.size < venue.seat_count:
        frozen = np.concatenate([frozen, np.zeros(venue.seat_count - frozen.size, np.uint8)])
    return LiveClasses(
        version=version,
        statuses=frozen,
        seat_classes=style.seat_classes(venue, frozen),
        section_classes=style.section_classes(venue, frozen),
    )


class LiveState:
    """Caches each event's LiveClasses and refreshes them when its follower moves on."""

    def __init__(self) -> None:
        self._by_event: dict[int, LiveClasses] = {}

    def classes(self, event_id: int, venue: Venue, follower: EventFollower) -> LiveClasses:
        """The event's classes at the follower's current version."""
        found = self._by_event.get(event_id)
        if found is None or found.version != follower.version:
            found = derive(venue, follower.status, follower.version)
            self._by_event[event_id] = found
        return found

    def forget(self, event_id: int) -> None:
        """Drop an event's cached classes."""
        self._by_event.pop(event_id, None)
