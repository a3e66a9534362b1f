"""The backup file of one event: a versioned, self-checking, gzip-compressed JSON document.

A file is gzip (whose CRC-32 and length trailer catch most damage and any
truncation) around one JSON object (docs/backup.md describes every field):

    {"format": "seatmap-event-backup", "version": 1,
     "payload_sha256": "<hex>", "payload_bytes": N, "payload": {...}}

`payload_sha256` is the SHA-256 of the payload's bytes exactly as they appear
in the file, so a change to any byte of the payload is found even where gzip
would not find it (a file recompressed after an edit). Reading checks the
envelope, the version, the length and the checksum, then decodes the payload
into the strict structs below (unknown fields, wrong types and missing fields
are refused); `lockservice.backup_check` then checks that its parts agree.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from datetime import datetime
from typing import Any, Literal

import msgspec

from lockservice.errors import BackupRejected

FORMAT_NAME = "seatmap-event-backup"
FORMAT_VERSION = 1
GZIP_LEVEL = 6


class EventRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The event row: its id when backed up, title, times and rules (`settings` JSON)."""

    id: int
    title: str
    starts_at: datetime | None
    created_at: datetime
    settings: dict[str, Any]


class VenueRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The event's venue version; `document` is the venue as native JSON, or None when the
    backup was taken with --no-venue (the restoring deployment must have that version)."""

    id: int
    name: str
    content_hash: str
    source_format: str
    seat_count: int
    document: dict[str, Any] | None


class SaleRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One sold seat of an order."""

    seat_index: int
    fencing: int
    sold_at: datetime


class OrderRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One order with its sales; `id` is the order id in the deployment backed up."""

    id: int
    idempotency_key: str
    request_hash: str
    buyer_id: str
    fencing: int
    total_cents: int
    created_at: datetime
    sales: list[SaleRecord]


class BlockedRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One seat an operator took off sale."""

    seat_index: int
    blocked_at: datetime


class HoldRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One open hold, its times relative to the capture instant (Redis's clock).

    `expires_in_ms` may be <= 0 for a hold that was due but not yet swept;
    `due_in_ms` is when the sweeper looks at it (the expiry of a held hold, the
    end of the grace time of one being confirmed).
    """

    token: str
    buyer_id: str
    address: str
    state: Literal["held", "confirming"]
    seats: list[int]
    fencing: int
    accessible: bool
    confirm_key: str
    age_ms: int
    expires_in_ms: int
    max_expires_in_ms: int
    due_in_ms: int


class LiveRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What Redis said besides the holds: its clock, the fencing counter and epoch."""

    redis_time_ms: int
    fencing_counter: int
    epoch: int | None


class Payload(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything backed up of one event (see docs/backup.md)."""

    captured_at: datetime
    event: EventRecord
    venue: VenueRecord
    live: LiveRecord
    status: bytes
    blocked: list[BlockedRecord]
    orders: list[OrderRecord]
    holds: list[HoldRecord]

    def max_fencing(self) -> int:
        """The highest fencing number the backup knows of (tokens and the live counter)."""
        numbers = [self.live.fencing_counter]
        numbers += [o.fencing for o in self.orders]
        numbers += [s.fencing for o in self.orders for s in o.sales]
        numbers += [h.fencing for h in self.holds]
        return max(numbers)


class Header(msgspec.Struct, frozen=True):
    """The envelope's fields read before anything else (others are ignored here)."""

    format: str = ""
    version: int = 0


class Envelope(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The whole document: format, version, checksum, then the payload's raw JSON."""

    format: str
    version: int
    payload_sha256: str
    payload_bytes: int
    payload: msgspec.Raw


def encode_backup(payload: Payload) -> bytes:
    """The file's bytes: the payload in its checked envelope, gzip-compressed."""
    body = msgspec.json.encode(payload)
    envelope = Envelope(
        format=FORMAT_NAME,
        version=FORMAT_VERSION,
        payload_sha256=hashlib.sha256(body).hexdigest(),
        payload_bytes=len(body),
        payload=msgspec.Raw(body),
    )
    return gzip.compress(msgspec.json.encode(envelope), compresslevel=GZIP_LEVEL, mtime=0)


def decode_backup(data: bytes) -> Payload:
    """The payload of a backup file's bytes; BackupRejected (one line) if anything is wrong.

    Checks, in order: gzip (damage, truncation), JSON, format name, version, length
    and SHA-256 of the payload, then the payload's shape and types.
    """
    try:
        text = gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise BackupRejected(f"damaged or truncated file ({_reason(exc)})") from None
    try:
        header = msgspec.json.decode(text, type=Header)
    except msgspec.DecodeError as exc:
        raise BackupRejected(f"not a backup file: {exc}") from None
    if header.format != FORMAT_NAME:
        raise BackupRejected(f"not a seatmap event backup (format {header.format!r})")
    if header.version != FORMAT_VERSION:
        raise BackupRejected(
            f"backup format version {header.version} is not supported "
            f"(this seatmap reads version {FORMAT_VERSION})"
        )
    try:
        envelope = msgspec.json.decode(text, type=Envelope)
    except msgspec.DecodeError as exc:
        raise BackupRejected(f"bad backup envelope: {exc}") from None
    body = bytes(envelope.payload)
    if len(body) != envelope.payload_bytes:
        raise BackupRejected(
            f"payload is {len(body)} bytes, the file says {envelope.payload_bytes}: damaged file"
        )
    if hashlib.sha256(body).hexdigest() != envelope.payload_sha256.lower():
        raise BackupRejected("checksum mismatch: the payload's SHA-256 differs, damaged file")
    try:
        return msgspec.json.decode(body, type=Payload)
    except msgspec.DecodeError as exc:
        raise BackupRejected(f"bad backup payload: {exc}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "it ends early"
    return str(exc) or type(exc).__name__
