"""Redis keys and the change-log entry format shared by both services.

All keys of one event share the Redis Cluster hash tag `{ev:ID}`, so every
Lua script of an event runs on one shard. The lock service's private keys
(holds, expiries, buyer counts) live in `lockservice.keys`; only what the tile
server must read is defined here.

Change-log entry (one Redis Stream entry per state change), fields:
  kind    hold | release | expire | confirming | sold | block | unblock | reconcile
  status  the new SeatStatus value (decimal) of every seat listed
  seats   comma-separated seat indices
The entry id is the Stream id ("ms-seq"). Stream ids alone cannot tell one life
of a Stream from the next (Redis restarted empty, the key deleted), so a random
generation token is kept beside each Stream; SSE ids and snapshot ETags carry
both ("ms-seq.generation"), and a resume from another generation is a reset.
"""

from __future__ import annotations

# Entries kept in each event's Stream; older ones are trimmed (clients then reset).
STREAM_MAXLEN = 100_000


def event_tag(prefix: str, event_id: int) -> str:
    """The common key prefix of one event, carrying its Cluster hash tag."""
    return f"{prefix}{{ev:{event_id}}}"


def status_key(prefix: str, event_id: int) -> str:
    """String key: one byte per seat index, the SeatStatus of each seat."""
    return f"{event_tag(prefix, event_id)}:status"


def stream_key(prefix: str, event_id: int) -> str:
    """Stream key: the event's change log (see the module docstring)."""
    return f"{event_tag(prefix, event_id)}:log"


def generation_key(prefix: str, event_id: int) -> str:
    """String key: the random token of the Stream's current life (no TTL).

    Created with SET NX by the first reader that finds it missing, so it is lost
    whenever the Stream is (a restart without data, a flush) and then comes back
    with a new value: a follower or a client holding the old one must reload.
    """
    return f"{event_tag(prefix, event_id)}:loggen"
