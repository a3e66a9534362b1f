"""Every Redis key the lock service uses, with what it holds and how long it lives.

All keys of one event start with `seatmap.livekeys.event_tag(prefix, event_id)`,
e.g. `seatmap:{ev:42}:...`, so they share one Redis Cluster hash tag and every
Lua script of an event touches one shard only. Keys are declared to scripts
through KEYS, never built inside Lua.

Per event (no TTL unless stated; the sweeper and scripts keep them tidy):

  epoch           the fencing epoch this live state was rebuilt in (from PostgreSQL's
                  `fencing_epochs` sequence). Written only by REBUILD, after the status,
                  fencing and counts were made from PostgreSQL; every mutating script
                  refuses to run without it (`no_epoch`), so a Redis that lost its data,
                  or had parts of it recreated by anyone else, accepts nothing until the
                  event was rebuilt from the durable record
  status          shared with the tile server (seatmap.livekeys): one byte per seat
  log             shared: the change-log Stream, trimmed with MAXLEN ~ STREAM_MAXLEN
  fencing         integer, INCR by every accepted hold; only grows. A rebuild raises it
                  to epoch * FENCING_EPOCH_SPAN (and above PostgreSQL's highest), so no
                  number issued before a loss, even one still being confirmed, recurs
  expiry          sorted set: hold token -> due time in ms. Holds in `confirming`
                  state stay in it with a grace deadline, so a sale that dies
                  half-way is found and resolved by the sweeper
  buyers          hash: buyer id -> seats held, confirming or sold in this event
                  (the per-buyer maximum); rebuilt from PostgreSQL after a flush
  addresses       hash: client address -> seats it holds or is confirming now, across
                  every buyer identity (the per-address cap); sold seats leave it.
                  Holds do not survive a rebuild, so a rebuild empties it
  hold:{token}    hash: buyer, address, seats (comma list), fencing, created_ms, expires_ms,
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
# Fencing numbers of one epoch lie in [epoch * SPAN, (epoch + 1) * SPAN): a billion holds
# per event between two Redis losses, and 9 million epochs before 2**53 (exact in Lua).
FENCING_EPOCH_SPAN = 1_000_000_000


@dataclass(frozen=True, slots=True)
class EventKeys:
    """The key names of one event."""

    epoch: str
    status: str
    log: str
    fencing: str
    expiry: str
    buyers: str
    addresses: str
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
        epoch=f"{tag}:epoch",
        status=status_key(prefix, event_id),
        log=stream_key(prefix, event_id),
        fencing=f"{tag}:fencing",
        expiry=f"{tag}:expiry",
        buyers=f"{tag}:buyers",
        addresses=f"{tag}:addresses",
        _hold_prefix=f"{tag}:hold:",
    )


def rate_key(prefix: str, scope: str, subject: str) -> str:
    """Key of one rate-limit bucket, e.g. scope "holds-ip" and an address."""
    return f"{prefix}rl:{scope}:{subject}"


def grip_keys(prefix: str, event_id: int) -> tuple[str, str]:
    """Keys of publishing one event to GRIP proxies: (lease, published).

    `lease` holds the id of the app node that publishes the event's changes, with
    PX = GRIP_LEASE_MS, renewed while that node lives, so each change is published
    once however many nodes follow the event. `published` holds the change-log id
    of the last entry published; a node taking over the lease publishes from there.
    """
    tag = event_tag(prefix, event_id)
    return f"{tag}:grip:lease", f"{tag}:grip:published"
