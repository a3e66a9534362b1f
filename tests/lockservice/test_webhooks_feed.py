"""The webhook outbox feed reads past change-log entries it cannot use, instead of stopping
its cursor on them for good."""

from __future__ import annotations

from lockservice.keys import event_keys
from lockservice.webhooks_feed import OutboxFeed
from seatmap.context import ServiceContext
from seatmap.events import EventRules
from tests.conftest import API_KEY_HEADER
from tests.lockservice.conftest import in_process_client, new_event, operator_action
from tests.lockservice.test_webhooks import outbox, register, with_settings


async def test_undecodable_entries_and_seats_the_venue_lacks_are_skipped_and_counted(
    ctx: ServiceContext,
) -> None:
    view = await new_event(ctx, EventRules(no_orphans=False))
    quiet = with_settings(ctx, webhook_enabled=False)
    log_key = event_keys(ctx.settings.redis_prefix, view.event.id).log
    async with in_process_client(quiet) as api:
        made = await register(api, "http://127.0.0.1:9/feed", ["block", "unblock"], view.event.id)
        try:
            assert (await operator_action(api, view, "block", ["102-C-1"])).status_code == 200
            await ctx.redis.xadd(log_key, {"kind": "block", "status": "garbled", "seats": "1"})
            nowhere = str(view.venue.seat_count)
            await ctx.redis.xadd(log_key, {"kind": "block", "status": "3", "seats": nowhere})
            assert (await operator_action(api, view, "unblock", ["102-C-1"])).status_code == 200
            assert await OutboxFeed(quiet).run_once() >= 4
            rows = await outbox(ctx, made["id"])
            assert [r["kind"] for r in rows] == ["block", "unblock"]
            assert await OutboxFeed(quiet).run_once() == 0  # the cursor is past them all
        finally:
            await api.delete(f"/webhooks/{made['id']}", headers=API_KEY_HEADER)
    bad = quiet.metrics.registry.get_sample_value(
        "seatmap_changelog_bad_entries_total", {"reader": "webhooks"}
    )
    assert bad == 2
