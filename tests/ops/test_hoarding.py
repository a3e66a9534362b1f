"""One client address cannot hoard seats by minting buyer identities.

An attacker behind one address mints many buyer sessions and holds pairs with
each, as fast as it can. The seats held from that address at once stay within
SEATMAP_MAX_SEATS_PER_ADDRESS; buyers from other addresses still get seats.
The address is the peer's, or what a trusted proxy (SEATMAP_TRUSTED_PROXIES)
reports in X-Forwarded-For; a client forging that header directly gains
nothing.
"""

from __future__ import annotations

import asyncio

import pytest

from seatmap.events import EventRules
from seatmap.settings import Settings
from tests.ops.api import Api, open_api, seat_pairs
from tests.ops.load import fault_venue
from tests.ops.servers import AppFactory, PrivatePostgres, PrivateRedis, provision_event

pytestmark = pytest.mark.fault

CAP = 10
IDENTITIES = 30
RULES = EventRules(no_orphans=False, hold_ttl_s=900, max_hold_s=1800, max_seats_per_buyer=8)


async def hoard(api: Api, pairs: list[list[str]], forwarded_for: list[str]) -> list[int]:
    """One session and one pair hold per identity, all at once; the hold statuses."""

    async def one(pair: list[str], address: str) -> int:
        headers = {"X-Forwarded-For": address}
        session = await api.http.post("/sessions", json={}, headers=headers)
        assert session.status_code == 201, session.text
        reply = await api.http.post(
            f"/events/{api.event_id}/holds",
            json={"seats": pair},
            headers={**headers, "Authorization": f"Bearer {session.json()['token']}"},
        )
        if reply.status_code == 422:
            assert reply.json()["error"] == "max_seats_per_address", reply.text
            assert reply.json()["limit"] == CAP
        return reply.status_code

    return list(
        await asyncio.gather(*(one(p, a) for p, a in zip(pairs, forwarded_for, strict=True)))
    )


@pytest.mark.timeout(180)
def test_one_address_cannot_hold_more_than_the_cap_through_many_identities(
    ops_settings: Settings,
    private_redis: PrivateRedis,
    private_postgres: PrivatePostgres,
    start_app: AppFactory,
) -> None:
    venue = fault_venue()
    pairs = seat_pairs(venue)
    behind_proxy = provision_event(ops_settings, venue, RULES, "Behind a proxy")
    direct = provision_event(ops_settings, venue, RULES, "No proxy trusted")
    proxied = start_app(
        SEATMAP_MAX_SEATS_PER_ADDRESS=str(CAP), SEATMAP_TRUSTED_PROXIES="127.0.0.1/32"
    )
    untrusting = start_app(SEATMAP_MAX_SEATS_PER_ADDRESS=str(CAP))

    async def scenario() -> tuple[list[int], list[int], list[int]]:
        async with open_api(proxied.url, behind_proxy) as api:
            attacker = await hoard(api, pairs[:IDENTITIES], ["203.0.113.66"] * IDENTITIES)
            others = await hoard(
                api, pairs[IDENTITIES : IDENTITIES + 5], [f"198.51.100.{n}" for n in range(5)]
            )
        async with open_api(untrusting.url, direct) as api:
            forged = [f"192.0.2.{n}" for n in range(IDENTITIES)]  # a fresh "address" per request
            spoofed = await hoard(api, pairs[:IDENTITIES], forged)
        return attacker, others, spoofed

    attacker, others, spoofed = asyncio.run(scenario())
    assert attacker.count(201) == CAP // 2, attacker
    assert set(attacker) == {201, 422}
    assert others == [201] * 5, "buyers from other addresses were refused"
    assert spoofed.count(201) == CAP // 2, "a forged X-Forwarded-For was believed"
    for app in (proxied, untrusting):
        assert app.unhandled_errors() == [], app.error_summary()
