"""Streams handed over to Pushpin while changes pour in: no client misses one.

The app answers each stream request with the catch-up from the client's
Last-Event-ID and hands the connection to Pushpin, which subscribes it to the
event's channel. A change published between the app's catch-up and that
subscription must still reach the client: Pushpin learns the position the
client has (`prev-id`) and every published item names its predecessor, so a
gap is seen and filled from the app (`Grip-Link` next). Clients here connect in
waves while changes are logged at a high rate, and each must receive every
entry after its start position, once and in order.

A Pushpin restart, with client ports of the machine in TIME_WAIT on the port it
listens on (as after tens of thousands of connections), must come back, and its
clients reconnect with Last-Event-ID and miss nothing.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import pytest
import redis as syncredis

from seatmap.livekeys import stream_key
from seatmap.settings import Settings
from tests.ops.load import LONG_HOLDS, fault_venue
from tests.ops.pushpin import SIG_KEY, PrivatePushpin
from tests.ops.servers import AppFactory, AppProcess, PrivateRedis, provision_event
from tests.ops.sseids import SOURCES, IdClient, gaps
from tests.ops.streamprobe import paced_changes, snapshot

pytestmark = [pytest.mark.fault, pytest.mark.slow]

WAVES = 8
PER_WAVE = 25
WAVE_EVERY_S = 0.4
CHANGES_PER_S = 250


def log_ids(settings: Settings, event_id: int) -> list[str]:
    """Every entry id of the event's change log, oldest first."""
    assert settings.redis_url is not None
    client = syncredis.Redis.from_url(settings.redis_url)
    try:
        key = stream_key(settings.redis_prefix, event_id)
        return [i.decode() for i, _ in client.xrange(key)]
    finally:
        client.close()


def start_pushpin_and_nodes(
    folder: Path, start_app: AppFactory, nodes: int = 2
) -> tuple[PrivatePushpin, list[AppProcess]]:
    """App nodes publishing to one Pushpin, which routes stream requests to the first."""
    folder.mkdir(exist_ok=True)
    pushpin = PrivatePushpin(folder, target="127.0.0.1:1", name=folder.name)
    env = {"SEATMAP_GRIP_PUBLISH_URLS": pushpin.publish_url, "SEATMAP_GRIP_KEY": SIG_KEY}
    started = [start_app(**env) for _ in range(nodes)]
    pushpin.target = f"127.0.0.1:{started[0].port}"
    pushpin.start()
    return pushpin, started


async def until_caught_up(clients: list[IdClient], final_id: str, timeout_s: float) -> None:
    """Wait until every client received `final_id` (or the time is up)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(c.ids and c.ids[-1] == final_id for c in clients):
            return
        await asyncio.sleep(0.1)


def missed(clients: list[IdClient], ids: list[str]) -> dict[str, int]:
    """Clients with gaps, entries missed in all, ids out of order in all."""
    results = [gaps(c.ids, ids, c.start_id.partition(".")[0]) for c in clients]
    return {
        "clients_with_gaps": sum(1 for m, d in results if m or d),
        "missed": sum(m for m, _ in results),
        "out_of_order": sum(d for _, d in results),
    }


@pytest.mark.timeout(240)
def test_streams_handed_over_while_changes_pour_in_miss_nothing(
    ops_settings: Settings, start_app: AppFactory, ops_root: Path, private_redis: PrivateRedis
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Hand-over")
    pushpin, nodes = start_pushpin_and_nodes(ops_root / "handover", start_app)
    seconds = WAVES * WAVE_EVERY_S + 1.0
    writer = threading.Thread(
        target=paced_changes,
        args=(private_redis, event_id, venue.seat_count, CHANGES_PER_S, seconds, 4),
    )

    async def scenario() -> list[IdClient]:
        clients: list[IdClient] = []
        writer.start()
        for wave in range(WAVES):
            _, position = await asyncio.to_thread(snapshot, nodes[1].url, event_id)
            for n in range(PER_WAVE):
                source = SOURCES[(wave * PER_WAVE + n) % len(SOURCES)]
                client = IdClient("127.0.0.1", pushpin.port, event_id, position, source)
                clients.append(client.start())
            await asyncio.sleep(WAVE_EVERY_S)
        await asyncio.to_thread(writer.join)
        final_id = log_ids(ops_settings, event_id)[-1]
        await until_caught_up(clients, final_id, 20)
        for client in clients:
            await client.stop()
        return clients

    try:
        clients = asyncio.run(scenario())
    finally:
        pushpin.stop()
    ids = log_ids(ops_settings, event_id)
    counts = missed(clients, ids)
    print(f"\nhand-over: {len(clients)} clients, {len(ids)} entries: {counts}")
    assert all(c.connects >= 1 for c in clients), "some clients never connected"
    assert counts == {"clients_with_gaps": 0, "missed": 0, "out_of_order": 0}
    for node in nodes:
        assert node.unhandled_errors() == [], node.error_summary()


def hold_time_wait(source: str, port: int, target_port: int) -> None:
    """Leave a connection from source:port in TIME_WAIT (this side closes first), as a
    client of the machine whose ephemeral port happened to be `port` would."""
    with socket.socket() as sock:
        sock.bind((source, port))
        sock.connect(("127.0.0.1", target_port))
    # closed first by us: (source:port) stays in TIME_WAIT for a minute


@pytest.mark.timeout(240)
def test_pushpin_restarts_with_client_ports_in_time_wait_and_clients_miss_nothing(
    ops_settings: Settings, start_app: AppFactory, ops_root: Path, private_redis: PrivateRedis
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Restart")
    pushpin, nodes = start_pushpin_and_nodes(ops_root / "restart", start_app, nodes=1)
    clients_count = 300

    async def scenario() -> list[IdClient]:
        _, position = await asyncio.to_thread(snapshot, nodes[0].url, event_id)
        clients = [
            IdClient("127.0.0.1", pushpin.port, event_id, position, SOURCES[n % len(SOURCES)])
            for n in range(clients_count)
        ]
        for client in clients:
            client.start()
        deadline = time.monotonic() + 30
        while sum(c.connects for c in clients) < clients_count:
            assert time.monotonic() < deadline, "clients did not connect"
            await asyncio.sleep(0.1)
        await asyncio.to_thread(
            paced_changes, private_redis, event_id, venue.seat_count, 50, 1.0, 4
        )
        await asyncio.to_thread(pushpin.stop)
        # Ports of the machine's clients in TIME_WAIT on Pushpin's port, on other addresses.
        for source in SOURCES[:2]:
            await asyncio.to_thread(hold_time_wait, source, pushpin.port, nodes[0].port)
        await asyncio.to_thread(
            paced_changes, private_redis, event_id, venue.seat_count, 50, 1.0, 4
        )
        await asyncio.to_thread(pushpin.start)
        await asyncio.to_thread(
            paced_changes, private_redis, event_id, venue.seat_count, 50, 1.0, 4
        )
        final_id = log_ids(ops_settings, event_id)[-1]
        await until_caught_up(clients, final_id, 30)
        for client in clients:
            await client.stop()
        return clients

    try:
        clients = asyncio.run(scenario())
    finally:
        pushpin.stop()
    ids = log_ids(ops_settings, event_id)
    counts = missed(clients, ids)
    print(f"\nrestart: {len(clients)} clients, {len(ids)} entries: {counts}")
    assert all(c.connects >= 2 for c in clients), "some clients did not reconnect"
    assert counts == {"clients_with_gaps": 0, "missed": 0, "out_of_order": 0}
    assert nodes[0].unhandled_errors() == [], nodes[0].error_summary()
