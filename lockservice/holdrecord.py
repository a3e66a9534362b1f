"""A hold as stored in Redis and as its owner sees it, and how script replies decode."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HOLD_TOKEN_BYTES = 24  # 192 bits: a hold token is a bearer secret
HOLD_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True, slots=True)
class Hold:
    """One hold as its owner sees it."""

    token: str
    event_id: int
    buyer_id: str
    fencing: int
    seats: tuple[int, ...]
    state: str
    created_ms: int
    expires_ms: int
    max_expires_ms: int
    accessible: bool


def hold_from_fields(token: str, event_id: int, fields: dict[str, str], state: str) -> Hold:
    """A hold from the fields of its Redis hash."""
    return Hold(
        token=token,
        event_id=event_id,
        buyer_id=fields["buyer"],
        fencing=int(fields["fencing"]),
        seats=tuple(int(s) for s in fields["seats"].split(",") if s),
        state=state,
        created_ms=int(fields["created_ms"]),
        expires_ms=int(fields["expires_ms"]),
        max_expires_ms=int(fields["max_expires_ms"]),
        accessible=fields.get("accessible") == "1",
    )


def text(value: Any) -> str:
    """A script reply item as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


def ints(values: Sequence[Any]) -> list[int]:
    """Script reply items as integers."""
    return [int(v) for v in values]


def new_hold_token() -> str:
    """A fresh, unguessable hold token."""
    return secrets.token_urlsafe(HOLD_TOKEN_BYTES)


def valid_token(token: str) -> bool:
    """Whether a string can be a hold token at all (anything else is simply unknown)."""
    return HOLD_TOKEN_RE.match(token) is not None
