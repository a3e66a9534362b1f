"""When the process stops following an event, its open streams end at once and the
clients that reconnect get live changes again: never a stream kept open by
heartbeats alone."""

from __future__ import annotations

import asyncio
import re

import httpx
import orjson

from lockservice.holds import Holds
from lockservice.keys import event_keys
from seatmap.context import ServiceContext
from seatmap.status import SeatStatus
from tests.lockservice.conftest import LockServer, new_event
from tests.lockservice.test_rules import seats
from tests.lockservice.test_sse import Sse, next_event, sse_events

END_WITHIN_S = 5.0  # the server's heartbeat is 0.3 s: a stalled stream would keep beating


async def drops_reader_ended(client: httpx.AsyncClient, url: str) -> float:
    """The server's `seatmap_sse_drops_total{reason="reader_ended"}`."""
    text = (await client.get(f"{url}/metrics")).text
    found = re.search(r'^seatmap_sse_drops_total\{reason="reader_ended"\} (\S+)$', text, re.M)
    assert found, "no reader_ended drop counter on /metrics"
    return float(found.group(1))


async def test_streams_end_with_a_retry_hint_when_the_event_reader_dies_and_reconnects_go_live(
    ctx: ServiceContext, holds: Holds, lock_server: LockServer
) -> None:
    view = await new_event(ctx)
    url = f"{lock_server.url}/events/{view.event.id}/stream"
    async with httpx.AsyncClient(timeout=10) as client:
        drops_before = await drops_reader_ended(client, lock_server.url)
        async with client.stream("GET", url) as response:
            assert response.status_code == 200
            events = sse_events(response)
            await holds.hold(view, "b1", seats(view, "C", 1, 2))
            last_id = (await next_event(events)).id
            # An entry nobody can decode (a writer of another format): the process's reader of
            # the event's change log fails on it, and with it the stream's broadcaster.
            log_key = event_keys(ctx.settings.redis_prefix, view.event.id).log
            await ctx.redis.xadd(log_key, {"kind": "hold", "status": "garbled", "seats": "3"})
            tail: list[Sse] = []
            async with asyncio.timeout(END_WITHIN_S):
                tail.extend([found async for found in events])
        assert tail, "the stream ended without a last message"
        assert tail[-1].retry == 2000 and "live updates interrupted" in tail[-1].comments
        assert await drops_reader_ended(client, lock_server.url) == drops_before + 1

        # The client reconnects as EventSource does: the process follows the event afresh.
        headers = {"Last-Event-ID": str(last_id)}
        async with client.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200
            events = sse_events(response)
            wanted = seats(view, "D", 1, 2)
            await holds.hold(view, "b2", wanted)
            message = await next_event(events)
            if message.event == "reset":  # the garbled entry cannot be replayed: reload
                message = await next_event(events)
            assert orjson.loads(message.data)["seats"] == [[s, SeatStatus.HELD] for s in wanted]
