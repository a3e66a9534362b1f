"""Signed buyer tokens: 128 random bits, HMAC-SHA256, an expiry; nothing else verifies."""

from __future__ import annotations

import base64

import pytest

from lockservice.sessions import issue_token, verify_token
from seatmap.errors import Unauthorized

SECRET = "a-test-secret"
NOW_MS = 1_800_000_000_000


def test_token_round_trips_to_its_buyer_with_128_random_bits() -> None:
    token, session = issue_token(SECRET, NOW_MS, 3600)
    assert verify_token(SECRET, token, NOW_MS + 3_599_000) == session
    assert len(base64.urlsafe_b64decode(session.buyer_id + "==")) == 16
    others = {issue_token(SECRET, NOW_MS, 3600)[1].buyer_id for _ in range(100)}
    assert len(others) == 100


def test_expired_token_is_refused() -> None:
    token, _ = issue_token(SECRET, NOW_MS, 60)
    with pytest.raises(Unauthorized, match="expired"):
        verify_token(SECRET, token, NOW_MS + 60_000)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace(t.split(".")[1], "A" * 22),  # another buyer
        lambda t: ".".join([*t.split(".")[:2], "9999999999", t.split(".")[3]]),  # longer life
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # forged signature
        lambda t: "v2" + t[2:],
        lambda t: t + ".extra",
        lambda t: ".".join([*t.split(".")[:2], "²³", t.split(".")[3]]),  # non-ASCII digits
        lambda t: "x" * 300,
        lambda t: "",
    ],
)
def test_tampered_token_is_refused(tamper: object) -> None:
    token, _ = issue_token(SECRET, NOW_MS, 3600)
    with pytest.raises(Unauthorized):
        verify_token(SECRET, tamper(token), NOW_MS)  # type: ignore[operator]


def test_token_of_another_secret_is_refused() -> None:
    token, _ = issue_token("another-secret", NOW_MS, 3600)
    with pytest.raises(Unauthorized, match="invalid"):
        verify_token(SECRET, token, NOW_MS)
