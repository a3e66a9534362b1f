"""Signed buyer session tokens: who is asking, without a session store.

A token is `v1.<buyer id>.<expiry, unix seconds>.<signature>`: the buyer id is
128 random bits (URL-safe base64), the signature HMAC-SHA256 over the first three
parts with `settings.session_secret`. Anyone may read a token; nobody without
the secret can make one, change its buyer or stretch its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request

from seatmap.errors import Unauthorized

TOKEN_VERSION = "v1"
BUYER_ID_BYTES = 16  # 128 bits of randomness
MAX_TOKEN_CHARS = 256


@dataclass(frozen=True, slots=True)
class BuyerSession:
    """A verified buyer: their id and when their token stops working."""

    buyer_id: str
    expires_at_s: int


def _decimal(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 12


def _sign(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue_token(secret: str, now_ms: int, ttl_s: int) -> tuple[str, BuyerSession]:
    """A new buyer id and its signed token, valid for `ttl_s` seconds."""
    if not secret:
        raise ValueError("session_secret must be set to sign buyer tokens")
    buyer_id = secrets.token_urlsafe(BUYER_ID_BYTES)
    expires_at_s = now_ms // 1000 + ttl_s
    payload = f"{TOKEN_VERSION}.{buyer_id}.{expires_at_s}"
    return f"{payload}.{_sign(secret, payload)}", BuyerSession(buyer_id, expires_at_s)


def verify_token(secret: str, token: str, now_ms: int) -> BuyerSession:
    """The session a token stands for; raises Unauthorized if forged, malformed or expired."""
    parts = token.split(".") if len(token) <= MAX_TOKEN_CHARS else []
    if len(parts) != 4 or parts[0] != TOKEN_VERSION or not _decimal(parts[2]):
        raise Unauthorized("malformed buyer token")
    payload = ".".join(parts[:3])
    if not secret or not hmac.compare_digest(parts[3].encode(), _sign(secret, payload).encode()):
        raise Unauthorized("invalid buyer token")
    expires_at_s = int(parts[2])
    if expires_at_s * 1000 <= now_ms:
        raise Unauthorized("buyer token expired; start a new session")
    return BuyerSession(parts[1], expires_at_s)


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer ...` header, or None without one."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Authorization must be 'Bearer <buyer token>'")
    return value.strip()


def require_buyer(request: Request, secret: str, now_ms: int) -> BuyerSession:
    """The verified buyer of a request; raises Unauthorized without a valid token."""
    token = bearer_token(request)
    if token is None:
        raise Unauthorized(
            "a buyer token is required: POST /sessions, then send 'Authorization: Bearer <token>'"
        )
    return verify_token(secret, token, now_ms)
