"""What a backup's parts must agree on, and the seat statuses they imply.

`seat_statuses` is the one rule both sides use: sold seats are SOLD, seats of
an open hold HELD (CONFIRMING while its sale is written), blocked seats
BLOCKED, every other seat AVAILABLE. A backup is taken so that these never
overlap; `check_payload` refuses a file where they do, where any seat index is
out of range, a key or token repeats, or the stored status bytes differ from
what the parts imply, so a restore never starts on a file it would have to
guess about.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from lockservice.backup_format import BlockedRecord, HoldRecord, OrderRecord, Payload
from lockservice.errors import BackupRejected
from lockservice.holdrecord import valid_token
from seatmap.errors import SeatmapError
from seatmap.events import EventRules
from seatmap.status import SeatStatus

# Fencing numbers are compared inside Lua, whose numbers are exact below 2**53.
MAX_FENCING = 2**53 - 1


def seat_statuses(
    seat_count: int,
    orders: Iterable[OrderRecord],
    blocked: Iterable[BlockedRecord],
    holds: Iterable[HoldRecord],
) -> npt.NDArray[np.uint8]:
    """One status byte per seat as the backup's parts imply (see the module docstring)."""
    status = np.zeros(seat_count, dtype=np.uint8)
    status[[b.seat_index for b in blocked]] = SeatStatus.BLOCKED
    for hold in holds:
        code = SeatStatus.CONFIRMING if hold.state == "confirming" else SeatStatus.HELD
        status[hold.seats] = code
    status[[s.seat_index for o in orders for s in o.sales]] = SeatStatus.SOLD
    return status


def _seats_in_range(what: str, seats: Iterable[int], seat_count: int) -> None:
    for seat in seats:
        if not 0 <= seat < seat_count:
            raise BackupRejected(f"{what}: seat index {seat} is outside 0..{seat_count - 1}")


def _fencing_ok(what: str, fencing: int) -> None:
    if not 0 <= fencing <= MAX_FENCING:
        raise BackupRejected(f"{what}: fencing number {fencing} is out of range")


def _unique(what: str, values: list[object]) -> None:
    if len(set(values)) != len(values):
        raise BackupRejected(f"{what} repeat")


def check_payload(payload: Payload) -> None:
    """Refuse (BackupRejected, one line) a payload whose parts disagree or are out of range."""
    seat_count = payload.venue.seat_count
    if seat_count < 0 or len(payload.status) != seat_count:
        raise BackupRejected(
            f"status has {len(payload.status)} bytes for a venue of {seat_count} seats"
        )
    if not payload.venue.content_hash:
        raise BackupRejected("the venue's content hash is missing")
    try:
        EventRules.from_json(payload.event.settings)
    except SeatmapError as exc:
        raise BackupRejected(f"event settings: {exc.detail}") from None
    _unique("order ids", [o.id for o in payload.orders])
    _unique("idempotency keys", [o.idempotency_key for o in payload.orders])
    sold = [s.seat_index for o in payload.orders for s in o.sales]
    _unique("sold seats", list(sold))
    for order in payload.orders:
        what = f"order {order.id}"
        _fencing_ok(what, order.fencing)
        for sale in order.sales:
            _fencing_ok(what, sale.fencing)
        _seats_in_range(what, (s.seat_index for s in order.sales), seat_count)
    _unique("blocked seats", [b.seat_index for b in payload.blocked])
    _seats_in_range("blocked", (b.seat_index for b in payload.blocked), seat_count)
    _unique("hold tokens", [h.token for h in payload.holds])
    held = [s for h in payload.holds for s in h.seats]
    _unique("seats of open holds", list(held))
    for hold in payload.holds:
        what = f"hold with fencing {hold.fencing}"
        if not valid_token(hold.token) or not hold.seats:
            raise BackupRejected(f"{what}: bad token or no seats")
        _fencing_ok(what, hold.fencing)
        _seats_in_range(what, hold.seats, seat_count)
    _fencing_ok("live state", payload.live.fencing_counter)
    taken = set(sold) | set(held)
    if taken & {b.seat_index for b in payload.blocked} or set(sold) & set(held):
        raise BackupRejected("a seat is in more than one of: sold, held, blocked")
    implied = seat_statuses(seat_count, payload.orders, payload.blocked, payload.holds)
    differ = np.flatnonzero(implied != np.frombuffer(payload.status, dtype=np.uint8))
    if differ.size:
        raise BackupRejected(
            f"status of seat {int(differ[0])} disagrees with the sales, holds and blocks"
        )
