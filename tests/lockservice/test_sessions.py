"""Signed buyer tokens (128 random bits, HMAC-SHA256, an expiry) and partner-vouched accounts."""

from __future__ import annotations

import base64
import dataclasses
import time

import pytest

from lockservice.sessions import (
    issue_token,
    partner_buyer_id,
    sign_partner_account,
    verify_token,
)
from seatmap.context import ServiceContext
from seatmap.errors import BadRequest, Unauthorized
from seatmap.events import EventRules
from tests.lockservice.conftest import in_process_client, new_event, request_hold

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


PARTNER = "a-partner-secret"


def test_partner_account_gives_the_same_buyer_on_every_session() -> None:
    assertion = sign_partner_account(PARTNER, "acct-42@example.com", NOW_MS // 1000 + 600)
    first = partner_buyer_id(SECRET, PARTNER, assertion, NOW_MS)
    again = partner_buyer_id(SECRET, PARTNER, assertion, NOW_MS + 60_000)
    other = partner_buyer_id(
        SECRET, PARTNER, sign_partner_account(PARTNER, "acct-43", NOW_MS // 1000 + 600), NOW_MS
    )
    assert first == again != other
    assert "acct" not in first and "." not in first
    token, session = issue_token(SECRET, NOW_MS, 3600, first)
    assert verify_token(SECRET, token, NOW_MS).buyer_id == session.buyer_id == first


@pytest.mark.parametrize(
    ("assertion", "message"),
    [
        (sign_partner_account("another-secret", "acct-1", NOW_MS // 1000 + 600), "invalid"),
        (sign_partner_account(PARTNER, "acct-1", NOW_MS // 1000 + 600).replace("acct-1", "acct-2"),
         "invalid"),
        (sign_partner_account(PARTNER, "acct-1", NOW_MS // 1000 - 1), "expired"),
        (sign_partner_account(PARTNER, "acct-1", NOW_MS // 1000 + 86_400), "at most"),
        (sign_partner_account(PARTNER, "acct 1", NOW_MS // 1000 + 600), "malformed"),
        (sign_partner_account(PARTNER, "acct-1", NOW_MS // 1000 + 600) + ".x", "malformed"),
        ("", "malformed"),
    ],
)  # fmt: skip
def test_a_bad_partner_assertion_is_refused(assertion: str, message: str) -> None:
    with pytest.raises(Unauthorized, match=message):
        partner_buyer_id(SECRET, PARTNER, assertion, NOW_MS)


def test_partner_accounts_are_off_without_a_partner_secret() -> None:
    assertion = sign_partner_account(PARTNER, "acct-1", NOW_MS // 1000 + 600)
    with pytest.raises(BadRequest, match="not enabled"):
        partner_buyer_id(SECRET, "", assertion, NOW_MS)


async def test_the_per_buyer_maximum_binds_to_a_partner_account_across_sessions(
    ctx: ServiceContext,
) -> None:
    partnered = dataclasses.replace(
        ctx, settings=ctx.settings.with_overrides(partner_secret=PARTNER)
    )
    view = await new_event(partnered, EventRules(max_seats_per_buyer=4, no_orphans=False))
    expires_s = int(time.time()) + 600
    body = {"partner_account": sign_partner_account(PARTNER, "acct-7", expires_s)}
    async with in_process_client(partnered) as api:
        sessions = [(await api.post("/sessions", json=body)).json() for _ in range(3)]
        assert len({s["buyer_id"] for s in sessions}) == 1
        first = await request_hold(api, view, sessions[0]["token"], ["101-C-1", "101-C-2"])
        second = await request_hold(api, view, sessions[1]["token"], ["101-C-4", "101-C-5"])
        third = await request_hold(api, view, sessions[2]["token"], ["101-D-1"])
        assert (first.status_code, second.status_code) == (201, 201)
        assert third.status_code == 422 and third.json()["error"] == "max_seats_per_buyer"
        forged = {"partner_account": sign_partner_account("guess", "acct-7", expires_s)}
        refused = await api.post("/sessions", json=forged)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
        plain = await api.post("/sessions", json={})
        assert plain.status_code == 201 and plain.json()["buyer_id"] != sessions[0]["buyer_id"]
