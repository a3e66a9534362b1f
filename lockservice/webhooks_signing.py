"""Webhook secrets and signatures, as Standard Webhooks defines them.

A secret is `whsec_` + base64 of 24 random bytes; the HMAC key is those bytes.
Every attempt carries three headers: `webhook-id` (the message's id, the same on
every retry, so receivers can drop repeats), `webhook-timestamp` (unix seconds of
the attempt) and `webhook-signature`: `v1,` + base64(HMAC-SHA256(key,
"{id}.{timestamp}.{body}")). Receivers recompute it over the raw body they got.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    """A fresh endpoint secret: `whsec_` + base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a secret stands for (the bytes after `whsec_`, base64-decoded)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` value of one attempt: `v1,` + base64 HMAC-SHA256."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The headers of one delivery attempt of `body`."""
    return {
        "content-type": "application/json",
        "user-agent": "seatmap-webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


def verify(secret: str, headers: dict[str, str], body: str) -> bool:
    """Whether `headers` carry a valid signature of `body` (what a receiver checks)."""
    message_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not message_id or not timestamp.isdigit():
        return False
    expected = signature(secret, message_id, int(timestamp), body)
    given = headers.get("webhook-signature", "").split(" ")
    return any(hmac.compare_digest(expected, candidate) for candidate in given)
