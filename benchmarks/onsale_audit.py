"""The on-sale benchmark's audit: what PostgreSQL and Redis hold against what buyers were told."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, cast

import asyncpg
import redis.asyncio as aioredis
from onsale_sale import Run

from lockservice.keys import event_keys
from seatmap.status import SeatStatus

# After the last hold's expiry, the sweeper gets this long to release it (spec: 1 s).
EXPIRY_GRACE_S = 2.0
SCAN_BATCH = 1000
PIPELINE_BATCH = 500


def read_log(path: Path) -> list[dict[str, Any]]:
    """The buyers' audit records."""
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


async def hold_records(client: aioredis.Redis, pattern: str) -> list[dict[str, str]]:
    """Every hold hash of the event (active holds and tombstones)."""
    keys = [key async for key in client.scan_iter(match=pattern, count=SCAN_BATCH)]
    records: list[dict[str, str]] = []
    for i in range(0, len(keys), PIPELINE_BATCH):
        async with client.pipeline(transaction=False) as pipe:
            for key in keys[i : i + PIPELINE_BATCH]:
                pipe.hgetall(key)
            for raw in await pipe.execute():
                records.append({k.decode(): v.decode() for k, v in raw.items()})
    return records


async def wait_for_expiry(client: aioredis.Redis, run: Run) -> dict[str, float]:
    """Wait until every hold has passed its expiry plus a grace; count what is still there."""
    keys = event_keys(run.prefix, run.event_id)
    records = await hold_records(client, keys.hold("*"))
    active = [r for r in records if r.get("state") in ("held", "confirming")]
    latest_ms = max((int(r.get("expires_ms", "0")) for r in active), default=0)
    wait_s = max(0.0, latest_ms / 1000 - time.time()) + EXPIRY_GRACE_S
    print(f"waiting {wait_s:.1f} s for the last of {len(active)} open holds to expire")
    await asyncio.sleep(wait_s)
    now_ms = int(time.time() * 1000)
    records = await hold_records(client, keys.hold("*"))
    overdue = [
        r
        for r in records
        if r.get("state") in ("held", "confirming") and int(r.get("expires_ms", "0")) <= now_ms
    ]
    due_in_set = await client.zcount(keys.expiry, "-inf", now_ms - 1000)
    status = cast(bytes, await client.get(keys.status) or b"")
    held_bytes = sum(status.count(bytes([s])) for s in (SeatStatus.HELD, SeatStatus.CONFIRMING))
    return {
        "overdue_hold_records": len(overdue),
        "overdue_in_expiry_set": int(due_in_set),
        "seats_still_held": held_bytes,
        "waited_s": round(wait_s, 1),
    }


async def audit(run: Run, log: Path) -> dict[str, Any]:
    """Compare PostgreSQL, Redis and the buyers' receipts after the run."""
    client = aioredis.Redis.from_url(run.redis_url)
    conn = await asyncpg.connect(run.database_url)
    try:
        expiry = await wait_for_expiry(client, run)
        keys = event_keys(run.prefix, run.event_id)
        sales = await conn.fetch(
            "SELECT s.seat_index, s.fencing, o.buyer_id, o.idempotency_key FROM sales s "
            "JOIN orders o ON o.id = s.order_id WHERE s.event_id = $1",
            run.event_id,
        )
        twice_pg = await conn.fetchval(
            "SELECT count(*) FROM (SELECT seat_index FROM sales WHERE event_id = $1 "
            "GROUP BY seat_index HAVING count(*) > 1) t",
            run.event_id,
        )
        orders = await conn.fetchval(
            "SELECT count(*) FROM orders WHERE event_id = $1", run.event_id
        )
        holds = {r.get("fencing", ""): r for r in await hold_records(client, keys.hold("*"))}
        status = cast(bytes, await client.get(keys.status) or b"")
    finally:
        await conn.close()
        await client.aclose()

    records = read_log(log)
    issued = {str(r["fencing"]): r for r in records if r["kind"] == "hold"}
    receipts = [r for r in records if r["kind"] == "sale"]
    sold_to: dict[int, set[str]] = {}
    for receipt in receipts:
        for seat in receipt["seats"]:
            sold_to.setdefault(seat, set()).add(receipt["key"])

    no_hold_redis = no_hold_log = 0
    for sale in sales:
        fencing = str(sale["fencing"])
        record = holds.get(fencing)
        seats_of = {int(s) for s in record.get("seats", "").split(",") if s} if record else set()
        if (
            record is None
            or sale["seat_index"] not in seats_of
            or record.get("buyer") != sale["buyer_id"]
            or record.get("state") != "sold"
        ):
            no_hold_redis += 1
        given = issued.get(fencing)
        if given is None or sale["seat_index"] not in given["seats"]:
            no_hold_log += 1
    sold_pg = {int(s["seat_index"]) for s in sales}
    sold_redis = {i for i, b in enumerate(status) if b == SeatStatus.SOLD}
    acknowledged = {seat for r in receipts for seat in r["seats"]}
    return {
        "orders": int(orders),
        "seats_sold": len(sold_pg),
        "holds_issued": len(issued),
        "seats_sold_twice_postgres": int(twice_pg),
        "seats_sold_twice_receipts": sum(1 for keys_ in sold_to.values() if len(keys_) > 1),
        "sales_without_valid_hold_redis": no_hold_redis,
        "sales_without_valid_hold_receipts": no_hold_log,
        "acknowledged_sales_missing": len(acknowledged - sold_pg),
        "redis_postgres_disagree": len(sold_pg ^ sold_redis),
        "holds_present_after_expiry": expiry["overdue_hold_records"]
        + expiry["overdue_in_expiry_set"]
        + expiry["seats_still_held"],
        "expiry_wait_s": expiry["waited_s"],
    }
