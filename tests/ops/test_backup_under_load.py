"""A backup taken by `seatmap backup` while buyers hold, release and buy over real HTTP.

Six buyers keep holding pairs on a running app, confirming one in three, releasing
one in three and leaving the rest open, before, during and after the backup. The
file must be one consistent moment of the on-sale (every order in it is exactly
as PostgreSQL has it, no seat both held and sold, every hold in it either still
open, ended or sold under its own fencing number), and restoring it into a fresh
database and key prefix must give every seat the status in the file, every order,
and every hold with the time it had left. Fencing numbers there start above every
number the original deployment handed out.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from lockservice.adminscripts import register_scripts
from lockservice.backup_restore import read_backup, restore_event
from lockservice.holds import Holds
from lockservice.keys import event_keys
from lockservice.reconcile import ensure_event_state, reconcile_event
from seatmap.context import ServiceContext
from seatmap.settings import Settings
from seatmap.status import SeatStatus
from seatmap_app.app import create_app
from tests.conftest import API_KEY_HEADER, LiveServer
from tests.lockservice.backup_helpers import TIME_TOLERANCE_MS, fresh_deployment, live_state
from tests.ops.api import seat_pairs
from tests.ops.load import LONG_HOLDS, fault_venue
from tests.venues import store_event

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SEATMAP = ROOT / ".venv" / "bin" / "seatmap"
BUYERS = 6
# Each buyer starts a pair at most every PACE_S: the hall's pairs outlast a slow backup.
PACE_S = 0.15


@dataclass
class Sale:
    """What the buyers did and were answered, with monotonic times."""

    answers: list[tuple[float, str, int]] = field(default_factory=list)
    fencings: list[int] = field(default_factory=list)

    def during(self, start: float, end: float, kind: str) -> int:
        """Successful answers of one kind between two moments."""
        return sum(1 for t, k, s in self.answers if start <= t <= end and k == kind and s < 300)


async def buyer(http: httpx.AsyncClient, event_id: int, pairs: list[list[str]], sale: Sale,
                stop: asyncio.Event) -> None:  # fmt: skip
    """Hold pair after pair as a new buyer each time; confirm, release or keep the hold."""
    for n, pair in enumerate(pairs):
        if stop.is_set():
            return
        await asyncio.sleep(PACE_S)
        session = await http.post("/sessions", json={})
        assert session.status_code == 201, session.text
        auth = {"Authorization": f"Bearer {session.json()['token']}"}
        hold = await http.post(f"/events/{event_id}/holds", json={"seats": pair}, headers=auth)
        sale.answers.append((time.monotonic(), "hold", hold.status_code))
        assert hold.status_code == 201, hold.text
        sale.fencings.append(int(hold.json()["fencing"]))
        path = f"/events/{event_id}/holds/{hold.json()['hold_token']}"
        if n % 3 == 0:
            headers = {**API_KEY_HEADER, "Idempotency-Key": str(uuid.uuid4())}
            sold = await http.post(f"{path}/confirm", json={}, headers=headers)
            sale.answers.append((time.monotonic(), "confirm", sold.status_code))
            assert sold.status_code == 201, sold.text
        elif n % 3 == 1:
            released = await http.delete(path, headers=auth)
            sale.answers.append((time.monotonic(), "release", released.status_code))
            assert released.status_code == 204, released.text


async def backup_while_selling(url: str, settings: Settings, event_id: int, pairs: list[list[str]],
                               out: Path) -> tuple[Sale, float, float]:  # fmt: skip
    """Sell for 1 s, run `seatmap backup` as a process, sell 1 s more; (sale, backup times)."""
    sale, stop = Sale(), asyncio.Event()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEATMAP_")}
    env.update(settings.connection_environ())
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        shares = [pairs[i::BUYERS] for i in range(BUYERS)]
        tasks = [asyncio.create_task(buyer(http, event_id, s, sale, stop)) for s in shares]
        await asyncio.sleep(1.0)
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            str(SEATMAP), "backup", str(event_id), "--out", str(out), env=env,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, stderr = await proc.communicate()
        ended = time.monotonic()
        assert proc.returncode == 0, stderr.decode()
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    return sale, started, ended


@pytest.mark.timeout(240)
async def test_backup_during_an_on_sale_restores_to_one_consistent_moment(
    ctx: ServiceContext, settings: Settings, tmp_path: Path
) -> None:
    venue = fault_venue()
    event_id = await store_event(ctx, venue, LONG_HOLDS, title="Backup night")
    await ensure_event_state(ctx, event_id)
    selling = settings.with_overrides(
        rate_limit_sessions_per_min=100_000,
        rate_limit_holds_per_min=100_000,
        max_seats_per_address=0,
    )
    server = await asyncio.to_thread(LiveServer(create_app(selling)).start)
    out = tmp_path / "on-sale.seatmap-backup"
    try:
        sale, started, ended = await backup_while_selling(
            server.url, settings, event_id, seat_pairs(venue), out
        )
    finally:
        await asyncio.to_thread(server.stop)
    during = (sale.during(started, ended, "hold"), sale.during(started, ended, "confirm"))
    print(f"\nbackup took {ended - started:.2f} s; holds, confirms answered meanwhile: {during}")
    assert min(during) > 0

    payload = read_backup(out)
    print(f"file: {len(payload.orders)} orders, {len(payload.holds)} open holds")
    status = payload.status
    assert status.count(SeatStatus.SOLD) > 0 and status.count(SeatStatus.HELD) > 0
    # Every order in the file is exactly as PostgreSQL has it; every one before it is there.
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT o.idempotency_key, o.fencing, o.buyer_id, o.created_at, "
            "array_agg(s.seat_index ORDER BY s.seat_index) AS seats FROM orders o "
            "JOIN sales s ON s.order_id = o.id WHERE o.event_id = $1 GROUP BY o.id",
            event_id,
        )
    source = {r["idempotency_key"]: r for r in rows}
    for order in payload.orders:
        found = source[order.idempotency_key]
        assert (found["fencing"], found["buyer_id"]) == (order.fencing, order.buyer_id)
        assert found["seats"] == sorted(s.seat_index for s in order.sales)
    in_file = {o.idempotency_key for o in payload.orders}
    late = [r["created_at"] for k, r in source.items() if k not in in_file]
    assert all(t.timestamp() > payload.captured_at.timestamp() - 5 for t in late)
    # Every hold in the file is still open, or ended, or was sold under its own fencing.
    sold_fencings = {r["fencing"] for r in rows}
    keys = event_keys(settings.redis_prefix, event_id)
    for hold in payload.holds:
        record = await ctx.redis.hgetall(keys.hold(hold.token))
        assert record[b"fencing"] == str(hold.fencing).encode()
        if record[b"state"] == b"sold":
            assert hold.fencing in sold_fencings

    async with fresh_deployment(settings) as target:
        began = time.monotonic()
        result = await restore_event(target, payload)
        restored = await live_state(target, event_id)
        slack = TIME_TOLERANCE_MS + int((time.monotonic() - began) * 1000)
        assert restored.status == status
        async with target.pool.acquire() as conn:
            orders = await conn.fetch(
                "SELECT o.idempotency_key, o.fencing, array_agg(s.seat_index ORDER BY "
                "s.seat_index) AS seats FROM orders o JOIN sales s ON s.order_id = o.id "
                "GROUP BY o.id"
            )
        assert {r[0]: (r[1], r[2]) for r in orders} == {
            o.idempotency_key: (o.fencing, sorted(s.seat_index for s in o.sales))
            for o in payload.orders
        }
        assert restored.holds.keys() == {h.token for h in payload.holds}
        for hold in payload.holds:
            fields = restored.holds[hold.token]
            seen = (fields["buyer"], fields["seats"], int(fields["fencing"]), fields["state"])
            seats = ",".join(map(str, hold.seats))
            assert seen == (hold.buyer_id, seats, hold.fencing, hold.state)
            assert abs(restored.remaining(hold.token, "expires_ms") - hold.expires_in_ms) <= slack
            assert abs(restored.remaining(hold.token, "due_ms") - hold.due_in_ms) <= slack
        fixed = await reconcile_event(target, event_id)
        assert (fixed.made_sold, fixed.made_blocked, fixed.made_available) == (0, 0, 0)
        view = await target.catalog.get(event_id)
        target_holds = Holds(target, register_scripts(target.redis))
        fresh = await target_holds.hold(view, "late", [0, 1], accessible=True)
        assert fresh.fencing > max(sale.fencings) and result.order_ids_kept
