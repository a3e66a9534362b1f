"""What one event's change-log follower reports after each read of the log.

- `seatmap_changelog_lag_seconds{event}`: age of the newest entry the read
  returned, by Redis's clock (the entry id) against this host's, so clock skew
  between the two adds to it; 0 after a read that found nothing new (caught up).
- `seatmap_seats{event, status}`: seats by live status, counted at most once every
  SEATS_EVERY_S (one pass over the status array).
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from seatmap.metrics import Metrics
from seatmap.status import STATUS_NAMES

SEATS_EVERY_S = 1.0


class FeedGauges:
    """The change-log lag and seats-by-status gauges of one followed event."""

    def __init__(self, metrics: Metrics, event_id: int) -> None:
        label = str(event_id)
        self._lag = metrics.changelog_lag_seconds.labels(label)
        self._seats = {
            code: metrics.seats.labels(label, name) for code, name in STATUS_NAMES.items()
        }
        self._counted_at = -SEATS_EVERY_S

    def observe(self, newest_id: bytes | None, status: npt.NDArray[np.uint8]) -> None:
        """Record a read whose newest entry was `newest_id` (None: nothing new) and the
        statuses after it."""
        lag_s = 0.0
        if newest_id:
            written_ms = int(newest_id.split(b"-", 1)[0])
            lag_s = max(0.0, time.time() - written_ms / 1000)
        self._lag.set(lag_s)
        now = time.monotonic()
        if now - self._counted_at < SEATS_EVERY_S:
            return
        self._counted_at = now
        counts = np.bincount(status, minlength=len(STATUS_NAMES))
        for code, gauge in self._seats.items():
            gauge.set(int(counts[code]))
