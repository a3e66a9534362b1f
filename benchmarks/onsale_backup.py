"""The on-sale benchmark's --backup check: a backup taken mid-load, restored, compared.

Halfway through the load (see `BackupDuringLoad.start`) a thread backs the event
up with the product's own code (`capture_event`, then `encode_backup` written
beside the target and renamed, as `seatmap backup` does) while the buyers go on.
After the load the file is read back (`read_backup`, every check of `seatmap
restore`) and restored (`restore_event`) into an empty deployment: a new scratch
PostgreSQL database, migrated, and a new Redis key prefix, both removed after.
The restored event is compared with the file: every seat's status in Redis,
every order in PostgreSQL (id, buyer, fencing, request hash, total, seats and
their fencing numbers, by idempotency key), every open hold in Redis (token,
buyer, address, seats, fencing, state, accessible flag, confirm key, epoch, and
its age and times left within a small slack). The file's orders are also checked
against the deployment they were taken from (orders never change once written).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg
import scratch
from onsale_audit import read_log
from onsale_sale import Run

from lockservice.backup_capture import capture_event
from lockservice.backup_format import Payload, encode_backup
from lockservice.backup_restore import read_backup, restore_event
from lockservice.keys import event_keys
from seatmap.context import ServiceContext
from seatmap.runtime import open_context
from seatmap.settings import Settings

# Times left on a restored hold may differ from the file's by this much plus the time
# from the start of the restore to the read (the restore counts from Redis's clock).
TIME_SLACK_MS = 1500
CAPTURE_JOIN_TIMEOUT_S = 300  # for the capture to end once the load is over
SHOWN_DIFFERENCES = 10
# The backup waits for the first sale until this fraction of the load, polling the log.
LATEST_FRACTION = 0.8
SALE_POLL_S = 0.25
ORDERS_SQL = (
    "SELECT o.id, o.idempotency_key, o.buyer_id, o.fencing, o.request_hash, o.total_cents, "
    "array_agg(s.seat_index ORDER BY s.seat_index) FILTER (WHERE s.seat_index IS NOT NULL) "
    "AS seats, array_agg(s.fencing ORDER BY s.seat_index) "
    "FILTER (WHERE s.seat_index IS NOT NULL) AS fencings "
    "FROM orders o LEFT JOIN sales s ON s.order_id = o.id WHERE o.event_id = $1 GROUP BY o.id"
)
# A restored hold's time fields against the file's: (record field, file field, sign);
# a time left shrinks while an age grows, hence the sign.
HOLD_TIMES = [(f"{n}_ms", f"{n}_in_ms", 1) for n in ("expires", "max_expires", "due")]
HOLD_TIMES.append(("created_ms", "age_ms", -1))
OrderKey = tuple[int, str, int, str, int, list[int], list[int]]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def file_orders(payload: Payload) -> dict[str, OrderKey]:
    """The file's orders by idempotency key: id, buyer, fencing, hash, total, seats, fencings."""
    out: dict[str, OrderKey] = {}
    for o in payload.orders:
        sales = sorted(o.sales, key=lambda s: s.seat_index)
        head = (o.id, o.buyer_id, o.fencing, o.request_hash, o.total_cents)
        out[o.idempotency_key] = (*head, [s.seat_index for s in sales], [s.fencing for s in sales])
    return out


async def db_orders(conn: asyncpg.Connection, event_id: int) -> dict[str, OrderKey]:
    """An event's orders in PostgreSQL, in the shape of `file_orders`."""
    out: dict[str, OrderKey] = {}
    for r in await conn.fetch(ORDERS_SQL, event_id):
        head = (r["id"], r["buyer_id"], r["fencing"], r["request_hash"], r["total_cents"])
        out[r["idempotency_key"]] = (*head, list(r["seats"] or []), list(r["fencings"] or []))
    return out


def order_differences(expected: dict[str, OrderKey], found: dict[str, OrderKey]) -> list[str]:
    """One line per order missing, extra, or not the same on both sides."""
    return [
        f"order {key}: file {expected.get(key)}, restored {found.get(key)}"
        for key in sorted(expected.keys() | found.keys())
        if expected.get(key) != found.get(key)
    ]


async def hold_differences(
    ctx: ServiceContext, payload: Payload, event_id: int, slack_ms: int
) -> tuple[list[str], int]:
    """Differences between the file's open holds and the restored ones; the largest time gap."""
    keys = event_keys(ctx.settings.redis_prefix, event_id)
    seconds, micros = await ctx.redis.time()
    now = int(seconds) * 1000 + int(micros) // 1000
    epoch = _text(await ctx.redis.get(keys.epoch) or b"")
    restored: dict[str, dict[str, str]] = {}
    due: list[Any] = await ctx.redis.zrange(keys.expiry, 0, -1, withscores=True)
    for token_raw, score in due:
        raw = await ctx.redis.hgetall(keys.hold(_text(token_raw)))
        fields = {_text(k): _text(v) for k, v in raw.items()}
        fields["due_ms"] = str(int(score))
        restored[_text(token_raw)] = fields
    in_file = {h.token: h for h in payload.holds}
    differences = [f"hold {t}: restored, not in the file" for t in restored.keys() - in_file]
    largest = 0
    for token, hold in in_file.items():
        got = restored.get(token)
        if got is None:
            differences.append(f"hold {token}: in the file, not restored")
            continue
        want = {
            "buyer": hold.buyer_id,
            "address": hold.address,
            "state": hold.state,
            "seats": ",".join(map(str, hold.seats)),
            "fencing": str(hold.fencing),
            "accessible": str(int(hold.accessible)),
            "confirm_key": hold.confirm_key,
            "epoch": epoch,
        }
        seen = {name: got.get(name, "") for name in want}
        if seen != want:
            differences.append(f"hold {token}: file {want}, restored {seen}")
        for name, file_name, sign in HOLD_TIMES:
            gap = sign * (int(got.get(name, "0")) - now) - getattr(hold, file_name)
            largest = max(largest, abs(gap))
            if abs(gap) > slack_ms:
                differences.append(f"hold {token}: {name} off by {gap} ms")
    return differences, largest


async def compare(
    ctx: ServiceContext, payload: Payload, event_id: int, slack_ms: int
) -> dict[str, Any]:
    """Compare the restored event with the file: counts compared, differences (lines)."""
    keys = event_keys(ctx.settings.redis_prefix, event_id)
    raw: Any = await ctx.redis.get(keys.status)
    status = bytes(raw or b"")
    holds, largest_gap = await hold_differences(ctx, payload, event_id, slack_ms)
    pairs = enumerate(zip(payload.status, status, strict=False))
    seats = [f"seat {i}: file {a}, restored {b}" for i, (a, b) in pairs if a != b]
    if len(status) != len(payload.status):
        seats.append(f"status: {len(payload.status)} seats in the file, {len(status)} restored")
    async with ctx.pool.acquire() as conn:
        orders = order_differences(file_orders(payload), await db_orders(conn, event_id))
    return {
        "seats_compared": len(payload.status),
        "orders_compared": len(payload.orders),
        "holds_compared": len(payload.holds),
        "largest_hold_time_gap_ms": largest_gap,
        "hold_time_slack_ms": slack_ms,
        "difference_lines": seats + orders + holds,
    }


async def _capture(settings: Settings, event_id: int) -> Payload:
    async with open_context(settings, schema="check") as ctx:
        return await capture_event(ctx, event_id)


async def _restore(target: Settings, path: Path) -> dict[str, Any]:
    """Read the file, restore it into the empty deployment `target`, compare at once."""
    began = time.monotonic()
    payload = read_backup(path)
    read_s = time.monotonic() - began
    async with open_context(target, schema="migrate") as ctx:
        began = time.monotonic()
        result = await restore_event(ctx, payload)
        restore_s = time.monotonic() - began
        slack = TIME_SLACK_MS + int((time.monotonic() - began) * 1000)
        figures = await compare(ctx, payload, result.event_id, slack)
    figures.update(
        read_s=round(read_s, 3), restore_s=round(restore_s, 3), order_ids_kept=result.order_ids_kept
    )
    return figures


async def _source_differences(database_url: str, payload: Payload) -> list[str]:
    """File orders not exactly as the deployment they were backed up from has them now."""
    conn = await asyncpg.connect(database_url)
    try:
        source = await db_orders(conn, payload.event.id)
    finally:
        await conn.close()
    expected = file_orders(payload)
    return order_differences(expected, {k: v for k, v in source.items() if k in expected})


class BackupDuringLoad:
    """Takes the backup on a thread `delay_s` after `start`, while the load goes on; after
    the load, `finish` restores it into an empty deployment, compares and prints."""

    def __init__(self, run: Run, settings: Settings) -> None:
        self.run = run
        self.settings = settings
        self.path = run.out / "onsale.seatmap-backup"
        self.figures: dict[str, Any] = {}
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._load_began = 0.0
        self._window = (0.0, 0.0)

    def start(self, duration_s: float, log: Path) -> None:
        """Call as the load starts: the backup is taken halfway through `duration_s`, or
        later once the buyers' `log` shows a sale (buyers browse before they buy; on a
        busy machine the first sales may come late), but by LATEST_FRACTION of it."""
        self._load_began = time.monotonic()
        self._thread = threading.Thread(target=self._take, args=(duration_s, log), daemon=True)
        self._thread.start()

    def _take(self, duration_s: float, log: Path) -> None:
        time.sleep(duration_s / 2)
        latest = self._load_began + duration_s * LATEST_FRACTION
        while time.monotonic() < latest and not any(r["kind"] == "sale" for r in read_log(log)):
            time.sleep(SALE_POLL_S)
        began, wall = time.monotonic(), time.time()
        try:
            payload = asyncio.run(_capture(self.settings, self.run.event_id))
            data = encode_backup(payload)
            partial = self.path.with_name(f".{self.path.name}.partial")
            partial.write_bytes(data)
            os.replace(partial, self.path)
        except BaseException as exc:  # reported by finish()
            self.error = exc
            return
        ended = time.monotonic()
        self._window = (wall, wall + ended - began)
        self.figures.update(
            capture_s=round(ended - began, 3),
            file_bytes=len(data),
            taken_at_s=round(began - self._load_began, 1),
            ended_at_s=round(ended - self._load_began, 1),
        )

    def load_ended(self) -> None:
        """Call when the load is over: notes when, and waits for the backup to be written."""
        self.figures["load_s"] = round(time.monotonic() - self._load_began, 1)
        if self._thread is not None:
            self._thread.join(timeout=CAPTURE_JOIN_TIMEOUT_S)
            if self._thread.is_alive():
                self.error = TimeoutError("the backup did not finish")

    def finish(self, log: Path) -> bool:
        """Restore into an empty deployment, compare, print; True if nothing differs."""
        if self.error is None and "capture_s" not in self.figures:
            self.error = RuntimeError("the backup was never taken")
        if self.error is not None:
            print(f"\nbackup during the load: FAIL ({type(self.error).__name__}: {self.error})")
            self.figures["error"] = str(self.error)
            return False
        records = [r for r in read_log(log) if self._window[0] <= r.get("at", 0) <= self._window[1]]
        self.figures["holds_meanwhile"] = sum(1 for r in records if r["kind"] == "hold")
        self.figures["sales_meanwhile"] = sum(1 for r in records if r["kind"] == "sale")
        source = asyncio.run(_source_differences(self.run.database_url, read_backup(self.path)))
        with (
            scratch.database("onsale_restore") as url,
            scratch.key_prefix("onsale-restore", self.run.redis_url) as prefix,
        ):
            target = self.settings.with_overrides(
                database_url=url, redis_prefix=prefix, data_dir=self.run.out / "restore-data"
            )
            self.figures.update(asyncio.run(_restore(target, self.path)))
        lines = self.figures.pop("difference_lines")
        self.figures.update(
            differences=len(lines),
            source_differences=len(source),
            difference_examples=(lines + source)[:SHOWN_DIFFERENCES],
        )
        return self._print()

    def _print(self) -> bool:
        f = self.figures
        during = f["ended_at_s"] < f["load_s"]
        ok = bool(during and f["differences"] == 0 and f["source_differences"] == 0)
        late = "" if during else ", AFTER the load ended"
        kept = "kept" if f["order_ids_kept"] else "renumbered"
        print(
            f"\nbackup during the load (taken {f['taken_at_s']}-{f['ended_at_s']} s into "
            f"{f['load_s']} s of load{late})\n"
            f"  capture {f['capture_s']:.2f} s, file {f['file_bytes']:,} bytes; answered "
            f"meanwhile: {f['holds_meanwhile']} holds, {f['sales_meanwhile']} sales\n"
            f"  restore into an empty deployment: read {f['read_s']:.2f} s, restore "
            f"{f['restore_s']:.2f} s (order ids {kept})\n"
            f"  compared {f['seats_compared']} seats, {f['orders_compared']} orders, "
            f"{f['holds_compared']} holds (hold times: largest gap "
            f"{f['largest_hold_time_gap_ms']} ms, slack {f['hold_time_slack_ms']} ms)\n"
            f"  {'differences, restored against the file':<56}{f['differences']:>8}\n"
            f"  {'file orders not as in the source deployment':<56}{f['source_differences']:>8}"
        )
        for line in f["difference_examples"]:
            print(f"    {line}")
        print("BACKUP PASS" if ok else "BACKUP FAIL")
        return ok
