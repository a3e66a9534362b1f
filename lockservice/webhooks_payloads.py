"""What a webhook message says: its id, its kind and its JSON body, built once per message.

Every body is `{"type": kind, "timestamp": ISO 8601, "data": {...}}` (the Standard
Webhooks shape). A sale's data is the order as the confirm reply gives it; a seat
change's data names the event, the change-log entry and the seats. The body text
is stored in the outbox and sent byte for byte on every attempt, so its signature
can be checked over exactly what arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from seatmap.model import Venue

SALE = "sale"
# Change-log kinds (seatmap.livekeys) that are webhook kinds, and their names as such.
CHANGE_KINDS = {"release": "release", "expire": "expiry", "block": "block", "unblock": "unblock"}
KINDS = (SALE, *CHANGE_KINDS.values())


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seat_refs(venue: Venue, seats: Sequence[int]) -> list[dict[str, Any]]:
    """Seats as `{index, id, label}` objects, as the API's replies name them."""
    ids = venue.seats.external_ids
    return [{"index": int(s), "id": ids[s], "label": venue.full_label(int(s))} for s in seats]


def _body(kind: str, at: datetime, data: dict[str, Any]) -> str:
    return orjson.dumps({"type": kind, "timestamp": _iso(at), "data": data}).decode()


def sale_message_id(order_id: int) -> str:
    """The webhook-id of an order's sale message (one per order, whatever the retries)."""
    return f"msg_sale_{order_id}"


def sale_body(
    venue: Venue,
    *,
    event_id: int,
    order_id: int,
    buyer_id: str,
    fencing: int,
    seats: Sequence[int],
    total_cents: int,
    created_at: datetime,
) -> str:
    """The body of a sale message: the order as the confirm reply shows it."""
    data = {
        "event_id": event_id,
        "order_id": order_id,
        "buyer_id": buyer_id,
        "fencing": fencing,
        "seats": seat_refs(venue, seats),
        "total_cents": total_cents,
        "created_at": _iso(created_at),
    }
    return _body(SALE, created_at, data)


def change_message_id(event_id: int, generation: str, entry_id: str) -> str:
    """The webhook-id of one change-log entry of an event's Stream of `generation`."""
    return f"msg_{event_id}_{generation}_{entry_id}"


def entry_time(entry_id: str) -> datetime:
    """When a change-log entry was written (its Stream id's milliseconds, Redis's clock)."""
    return datetime.fromtimestamp(int(entry_id.split("-")[0]) / 1000, UTC)


def change_body(
    venue: Venue, *, kind: str, event_id: int, generation: str, entry_id: str, seats: Sequence[int]
) -> str:
    """The body of a seat-change message (release, expiry, block, unblock)."""
    data = {
        "event_id": event_id,
        # The same id the live stream gives this change (docs/api.md, Live updates).
        "change_id": f"{entry_id}.{generation}",
        "seats": seat_refs(venue, seats),
    }
    return _body(kind, entry_time(entry_id), data)
