"""The GRIP publisher catches up from the position recorded as published, past an entry
nobody can decode, and goes on publishing live changes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lockservice.grippublish import GripPublisher
from lockservice.holds import Holds
from lockservice.keys import event_keys, grip_keys
from lockservice.ssewire import position, sse_message
from seatmap.context import ServiceContext
from seatmap.status import SeatStatus
from tests.conftest import LiveServer
from tests.lockservice.conftest import new_event
from tests.lockservice.test_rules import seats

GARBLED = {"kind": "hold", "status": "garbled", "seats": "3"}


@pytest.fixture
def proxy() -> Iterator[tuple[LiveServer, list[dict[str, Any]]]]:
    """A stand-in for a GRIP proxy's publish endpoint, and every item published to it."""
    items: list[dict[str, Any]] = []

    async def publish(request: Request) -> Response:
        items.extend(orjson.loads(await request.body())["items"])
        return Response(status_code=200)

    server = LiveServer(Starlette(routes=[Route("/publish/", publish, methods=["POST"])]))
    yield server.start(), items
    server.stop()


async def _newest_id(ctx: ServiceContext, event_id: int) -> str:
    log_key = event_keys(ctx.settings.redis_prefix, event_id).log
    newest: Any = await ctx.redis.xrevrange(log_key, count=1)
    return str(newest[0][0].decode())


async def test_catch_up_skips_an_undecodable_entry_and_publishing_goes_on(
    ctx: ServiceContext, holds: Holds, proxy: tuple[LiveServer, list[dict[str, Any]]]
) -> None:
    server, items = proxy
    view = await new_event(ctx)
    event_id, prefix = view.event.id, ctx.settings.redis_prefix
    await holds.hold(view, "b1", seats(view, "C", 1, 2))
    published = await _newest_id(ctx, event_id)  # as if a previous leaseholder got this far
    await ctx.redis.set(grip_keys(prefix, event_id)[1], published)
    await ctx.redis.xadd(event_keys(prefix, event_id).log, GARBLED)
    missed = seats(view, "D", 1, 2)
    await holds.hold(view, "b2", missed)
    missed_id = await _newest_id(ctx, event_id)

    settings = dataclasses.replace(ctx.settings, grip_publish_urls=(server.url,))
    publisher = GripPublisher(dataclasses.replace(ctx, settings=settings), {event_id}, sse_message)
    publisher.start()
    try:
        generation = (await ctx.feed.follower(event_id)).generation
        async with asyncio.timeout(5):
            while len(items) < 1:
                await asyncio.sleep(0.02)
        wanted = seats(view, "E", 1, 2)
        await holds.hold(view, "b3", wanted)
        live_id = await _newest_id(ctx, event_id)
        async with asyncio.timeout(5):
            while len(items) < 2:
                await asyncio.sleep(0.02)
    finally:
        await publisher.stop()

    assert [item["id"] for item in items] == [position(i, generation) for i in (missed_id, live_id)]
    assert items[0]["prev-id"] == position(published, generation)  # the garbled one is no link
    assert items[1]["prev-id"] == items[0]["id"]
    content = items[0]["formats"]["http-stream"]["content"]
    data = orjson.loads(content.split("data: ", 1)[1])
    assert data["seats"] == [[s, SeatStatus.HELD] for s in missed]
    bad = ctx.metrics.registry.get_sample_value(
        "seatmap_changelog_bad_entries_total", {"reader": "grip"}
    )
    assert bad == 1
