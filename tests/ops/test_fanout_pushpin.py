"""Live updates through Pushpin: the app answers each stream request and hands it over.

Clients follow the stream through Pushpin while sales run on two app nodes: every
change reaches them exactly once (one publisher per event, however many nodes),
resume with Last-Event-ID still gives exactly what was missed, and a Pushpin
restart loses nothing a client cannot recover by resuming.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import redis as syncredis

from seatmap.livekeys import stream_key
from seatmap.settings import Settings
from tests.ops.api import seat_pairs
from tests.ops.livemap import LiveMap
from tests.ops.load import LONG_HOLDS, fault_venue
from tests.ops.pushpin import SIG_KEY, PrivatePushpin
from tests.ops.servers import AppFactory, AppProcess, provision_event
from tests.ops.test_multinode import converged, sell

pytestmark = [pytest.mark.fault, pytest.mark.slow]

FOLLOWERS = 20


def grip_env(pushpin: PrivatePushpin) -> dict[str, str]:
    """SEATMAP_* settings of an app node that publishes to `pushpin`."""
    return {"SEATMAP_GRIP_PUBLISH_URLS": pushpin.publish_url, "SEATMAP_GRIP_KEY": SIG_KEY}


def log_length(settings: Settings, event_id: int) -> int:
    """Entries in the event's change log."""
    assert settings.redis_url is not None
    client = syncredis.Redis.from_url(settings.redis_url)
    try:
        return int(client.xlen(stream_key(settings.redis_prefix, event_id)))
    finally:
        client.close()


@pytest.mark.timeout(240)
def test_streams_through_pushpin_get_every_change_once_and_survive_its_restart(
    ops_settings: Settings, start_app: AppFactory, ops_root: Path
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Fan-out")
    folder = ops_root / "pushpin"
    folder.mkdir(exist_ok=True)
    pairs = seat_pairs(venue)
    # Pushpin is started after the nodes, so it is told their address first.
    pushpin = PrivatePushpin(folder, target="127.0.0.1:1", name="fanout")
    nodes: list[AppProcess] = [start_app(**grip_env(pushpin)) for _ in range(2)]
    pushpin.target = f"127.0.0.1:{nodes[0].port}"
    pushpin.start()

    async def scenario() -> None:
        maps = [LiveMap(pushpin.url, event_id).start() for _ in range(FOLLOWERS)]
        await asyncio.wait_for(asyncio.gather(*(m.connected.wait() for m in maps)), 20)
        # The app holds no stream itself: Pushpin does.
        assert nodes[0].metric("seatmap_sse_connections") == 0
        before = log_length(ops_settings, event_id)
        for number in range(10):
            assert await sell(nodes[number % 2].url, event_id, pairs[number]) is not None
        await converged(maps, nodes[0].url, event_id, timeout_s=10)
        entries = log_length(ops_settings, event_id) - before
        # Every entry arrived once: two nodes follow the event, one publishes it.
        assert [m.messages for m in maps] == [entries] * FOLLOWERS

        pushpin.stop()  # the fan-out node restarts while sales go on
        for number in range(10, 16):
            assert await sell(nodes[number % 2].url, event_id, pairs[number]) is not None
        pushpin.start()
        await converged(maps, nodes[1].url, event_id, timeout_s=20)
        assert all(m.connects >= 2 for m in maps)
        for live in maps:
            await live.stop()

    try:
        asyncio.run(scenario())
    finally:
        pushpin.stop()
    for node in nodes:
        assert node.unhandled_errors() == [], node.error_summary()
        assert httpx.get(f"{node.url}/healthz").status_code == 200
