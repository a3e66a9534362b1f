"""What a resuming client may be sent: the newest entries of one event, bounded.

Each broadcaster keeps the entries it has sent, newest last, up to
REPLAY_MAX_ENTRIES and about REPLAY_MAX_BYTES, so a reconnect storm is served
from memory: no Redis read per client. A resume further back than these bounds
(or one whose catch-up would exceed CATCH_UP_MAX_BYTES of SSE) is answered with
`reset` and the client reloads the snapshot instead: catch-up costs the server
at most one bounded write per client.

`floor` is the newest Stream id the window does not hold: every entry after it,
up to the newest sent, is held. A window that has not reached its bounds can be
extended backwards once from the Stream (`older`), which a fresh process needs
after a restart, when its clients come back with positions from before it.
"""

from __future__ import annotations

from collections import deque

from lockservice.ssewire import StreamId, stream_id
from seatmap.changefeed import ChangeEntry

REPLAY_MAX_ENTRIES = 1000
REPLAY_MAX_BYTES = 1024 * 1024
CATCH_UP_MAX_BYTES = 256 * 1024
# What one held entry costs beyond its seat list (object, id, memo), for the bound.
ENTRY_OVERHEAD_BYTES = 400
SEAT_BYTES = 8


def entry_bytes(entry: ChangeEntry) -> int:
    """About what holding one entry (and its rendered message) costs."""
    return ENTRY_OVERHEAD_BYTES + SEAT_BYTES * 4 * int(entry.seats.size)


def just_before(sid: StreamId) -> StreamId:
    """The greatest Stream id below `sid`."""
    ms, seq = sid
    return (ms, seq - 1) if seq > 0 else (ms - 1, 2**64 - 1)


class RecentEntries:
    """The newest entries sent for one event, bounded in count and size."""

    def __init__(
        self, max_entries: int = REPLAY_MAX_ENTRIES, max_bytes: int = REPLAY_MAX_BYTES
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.floor: StreamId = (0, 0)
        # True when nothing older may be added: a bound was reached or a reset lies behind.
        self.complete = False
        self._entries: deque[ChangeEntry] = deque()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def restart(self, floor: StreamId, complete: bool) -> None:
        """Forget every entry; the next ones follow `floor`."""
        self._entries.clear()
        self._bytes = 0
        self.floor = floor
        self.complete = complete

    def append(self, entry: ChangeEntry) -> None:
        """Hold a newly sent entry, letting the oldest go beyond the bounds."""
        self._entries.append(entry)
        self._bytes += entry_bytes(entry)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            oldest = self._entries.popleft()
            self._bytes -= entry_bytes(oldest)
            self.floor = stream_id(oldest.id)
            self.complete = True

    def room(self) -> int:
        """How many older entries may still be added."""
        return 0 if self.complete else self.max_entries - len(self._entries)

    def add_older(self, entries_newest_first: list[ChangeEntry]) -> None:
        """Extend the window backwards with the entries just before `floor`, newest first.

        A `reset` entry among them ends the window there: what came before it is not
        continuous with what follows. The window is extended once at most.
        """
        self.complete = True
        for entry in entries_newest_first:
            size = entry_bytes(entry)
            if entry.kind == "reset":
                self.floor = stream_id(entry.id)
                return
            if len(self._entries) >= self.max_entries or self._bytes + size > self.max_bytes:
                return
            self._entries.appendleft(entry)
            self._bytes += size
            self.floor = just_before(stream_id(entry.id))

    def after(self, sid: StreamId) -> list[ChangeEntry] | None:
        """The entries after `sid`, oldest first; None if some of them are not held."""
        if sid < self.floor:
            return None
        found: list[ChangeEntry] = []
        for entry in reversed(self._entries):
            if stream_id(entry.id) <= sid:
                break
            found.append(entry)
        found.reverse()
        return found
