"""Every Redis key the lock service uses, with what it holds and how long it lives.

All keys of one event start with `seatmap.livekeys.event_tag(prefix, event_id)`,
e.g. `seatmap:{ev:42}:...`, so they share one Redis Cluster hash tag and every
Lua script of an event touches one shard only. Keys are declared to scripts
through KEYS, never built inside Lua.

Per event (no TTL unless stated; the sweeper and scripts keep them tidy):

  status          shared with the tile server (seatmap.livekeys): one byte per seat
  log             shared: the change-log Stream, trimmed with MAXLEN ~ STREAM_MAXLEN
  fencing         integer, INCR by every accepted hold; only grows (the reconciler
                  raises it to the highest fencing PostgreSQL has seen after a flush)
  expiry          sorted set: hold token -> due time in ms. Holds in `confirming`
                  state stay in it with a grace deadline, so a sale that dies
                  half-way is found and resolved by the sweeper
  buyers          hash: buyer id -> seats held, confirming or sold in this event
                  (the per-buyer maximum); rebuilt from PostgreSQL after a flush
  hold:{token}    hash: buyer, seats (comma list), fencing, created_ms, expires_ms,
                  max_expires_ms, state (held | confirming | released | expired |
                  sold), confirm_key, accessible. While active it has no TTL (the
                  expiry set drives its end); once ended it stays as a tombstone
                  for TOMBSTONE_TTL_MS so the owner gets 410 instead of 404.

  rl:{scope}:{subject}  hold-attempt rate buckets of this event, scope "buyer" or "ip":
                  the GCRA "theoretical arrival time" in ms, PX = how far that time
                  lies ahead, so an idle subject's bucket disappears by itself. Being
                  under the event's tag, HOLD charges them in the same step.

Session creation (not tied to an event, so no hash tag):

  rl:sessions-ip:{address}  the same kind of GCRA bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

from seatmap.livekeys import event_tag, status_key, stream_key

# Ended holds are kept this long so that their owner learns "gone" (410), not 404.
TOMBSTONE_TTL_MS = 3600 * 1000


@dataclass(frozen=True, slots=True)
class EventKeys:
    """The key names of one event."""

    status: str
    log: str
    fencing: str
    expiry: str
    buyers: str
    _hold_prefix: str

    def hold(self, hold_token: str) -> str:
        """Hash key of one hold."""
        return f"{self._hold_prefix}{hold_token}"

    def rate(self, scope: str, subject: str) -> str:
        """Rate-limit bucket of hold attempts in this event, per buyer or per address."""
        return f"{self._hold_prefix[: -len('hold:')]}rl:{scope}:{subject}"


def event_keys(prefix: str, event_id: int) -> EventKeys:
    """Key names of an event under a deployment's key prefix."""
    tag = event_tag(prefix, event_id)
    return EventKeys(
        status=status_key(prefix, event_id),
        log=stream_key(prefix, event_id),
        fencing=f"{tag}:fencing",
        expiry=f"{tag}:expiry",
        buyers=f"{tag}:buyers",
        _hold_prefix=f"{tag}:hold:",
    )


def rate_key(prefix: str, scope: str, subject: str) -> str:
    """Key of one rate-limit bucket, e.g. scope "holds-ip" and an address."""
    return f"{prefix}rl:{scope}:{subject}"
