"""Signed buyer session tokens: who is asking, without a session store.

A token is `v1.<buyer id>.<expiry, unix seconds>.<signature>`: the buyer id is
128 random bits (URL-safe base64), the signature HMAC-SHA256 over the first three
parts with `settings.session_secret`. Anyone may read a token; nobody without
the secret can make one, change its buyer or stretch its expiry.

A partner's checkout may vouch for the buyer's account (`partner_account` in
POST /sessions): `<account id>.<expiry, unix seconds>.<signature>`, the signature
HMAC-SHA256 over `partner.v1.<account id>.<expiry>` with
`settings.partner_secret`, valid for at most `MAX_PARTNER_ASSERTION_S`. Every
session of one account then gets the same buyer id (derived from the account
with the session secret, so it does not reveal it), and the per-buyer maximum
binds to the account however many sessions it starts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from starlette.requests import Request

from seatmap.errors import BadRequest, Unauthorized

TOKEN_VERSION = "v1"
BUYER_ID_BYTES = 16  # 128 bits of randomness
MAX_TOKEN_CHARS = 256
PARTNER_VERSION = "partner.v1"
# A partner assertion is made at checkout for this one request; a short life limits replay.
MAX_PARTNER_ASSERTION_S = 3600
ACCOUNT_ID_RE = re.compile(r"^[A-Za-z0-9._@:+-]{1,128}$")


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


def issue_token(
    secret: str, now_ms: int, ttl_s: int, buyer_id: str | None = None
) -> tuple[str, BuyerSession]:
    """A signed token valid for `ttl_s` seconds, for `buyer_id` or else a new random buyer."""
    if not secret:
        raise ValueError("session_secret must be set to sign buyer tokens")
    buyer_id = buyer_id or secrets.token_urlsafe(BUYER_ID_BYTES)
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


def sign_partner_account(partner_secret: str, account_id: str, expires_at_s: int) -> str:
    """The assertion a partner's checkout sends for one of its accounts (see the docstring)."""
    payload = f"{account_id}.{expires_at_s}"
    return f"{payload}.{_sign(partner_secret, f'{PARTNER_VERSION}.{payload}')}"


def partner_buyer_id(session_secret: str, partner_secret: str, assertion: str, now_ms: int) -> str:
    """The buyer id of a partner-vouched account; raises Unauthorized if the assertion is
    forged, malformed, expired or valid for too long, BadRequest if partners are off."""
    if not partner_secret:
        raise BadRequest("partner accounts are not enabled here", field="partner_account")
    parts = assertion.rsplit(".", 2) if len(assertion) <= MAX_TOKEN_CHARS else []
    if len(parts) != 3 or not ACCOUNT_ID_RE.match(parts[0]) or not _decimal(parts[1]):
        raise Unauthorized("malformed partner account assertion")
    account_id, expires_raw, signature = parts
    wanted = _sign(partner_secret, f"{PARTNER_VERSION}.{account_id}.{expires_raw}")
    if not hmac.compare_digest(signature.encode(), wanted.encode()):
        raise Unauthorized("invalid partner account signature")
    expires_at_s, now_s = int(expires_raw), now_ms // 1000
    if expires_at_s <= now_s:
        raise Unauthorized("partner account assertion expired")
    if expires_at_s > now_s + MAX_PARTNER_ASSERTION_S:
        raise Unauthorized(
            f"a partner account assertion may be valid for at most {MAX_PARTNER_ASSERTION_S} s"
        )
    return "p-" + _sign(session_secret, f"account.{account_id}")[:22]
