"""The lock service's keys and scripts on a real Redis Cluster (3 masters, 3 replicas).

Each event's keys share one slot, events and session buckets spread over the
masters, script calls go straight to the master of their slot (batched per
master), a call sent to the wrong master after a slot moved still runs once on
the right one, a write is acknowledged only once the replica has it, and a
client given several nodes starts while one is down.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from collections.abc import Iterator

import pytest
from redis.crc import key_slot

from lockservice.fastredis import NotReplicated, ScriptRunner
from lockservice.keys import event_keys, rate_key
from seatmap.context import ServiceContext
from seatmap.livekeys import event_tag, status_key, stream_key
from seatmap.redisclient import REDIS_UNAVAILABLE, is_cluster, redis_client
from tests.ops.cluster import LocalRedisCluster

pytestmark = pytest.mark.cluster

PREFIX = "seatmap:"
# Event ids far above the run's real events, so these tests never touch their keys.
PROBE_EVENTS = range(900_000, 900_030)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test here runs against the Redis Cluster only."""
    if "redis_variant" in metafunc.fixturenames:
        cluster = pytest.param("cluster", marks=pytest.mark.cluster)
        metafunc.parametrize("redis_variant", [cluster], indirect=True, scope="session")


def slot(key: str) -> int:
    """The cluster slot of a key."""
    return key_slot(key.encode())


def all_keys(event_id: int) -> list[str]:
    """Every key name the lock service and the tile server use for one event."""
    keys = event_keys(PREFIX, event_id)
    names = [
        getattr(keys, f.name)
        for f in dataclasses.fields(keys)
        if isinstance(getattr(keys, f.name), str)
    ]
    names += [keys.hold("a-hold-token"), keys.rate("buyer", "b1"), keys.rate("ip", "10.0.0.1")]
    return [*names, status_key(PREFIX, event_id), stream_key(PREFIX, event_id)]


def evalsha_stats(cluster: LocalRedisCluster, port: int) -> tuple[int, int]:
    """(EVALSHA calls run, EVALSHA calls rejected, e.g. with MOVED) on one node."""
    with cluster.client(port) as client:
        stats = client.info("commandstats").get("cmdstat_evalsha", {})
    return int(stats.get("calls", 0)), int(stats.get("rejected_calls", 0))


@pytest.fixture
def masters(redis_cluster: LocalRedisCluster) -> list[int]:
    """Ports of the cluster's masters now."""
    return sorted({redis_cluster.master_of_slot(s) for s in (0, 8000, 16383)})


def test_every_key_of_an_event_shares_the_slot_of_its_tag() -> None:
    for event_id in (1, 42, 65_535, 2**40):
        tag_slot = slot(event_tag(PREFIX, event_id) + ":x")
        assert {slot(k) for k in all_keys(event_id)} == {tag_slot}, event_id


def test_events_spread_over_every_master(redis_cluster: LocalRedisCluster) -> None:
    served_by = {redis_cluster.master_of_key(status_key(PREFIX, e)) for e in range(1, 31)}
    assert len(served_by) == 3


def test_session_buckets_without_an_event_spread_over_slots_and_masters(
    redis_cluster: LocalRedisCluster,
) -> None:
    keys = [rate_key(PREFIX, "sessions-ip", f"10.1.{i // 250}.{i % 250}") for i in range(300)]
    assert len({slot(k) for k in keys}) > 250
    assert len({redis_cluster.master_of_key(k) for k in keys}) == 3


async def test_script_calls_go_to_their_master_in_batches_each_with_its_reply(
    ctx: ServiceContext, redis_cluster: LocalRedisCluster, masters: list[int]
) -> None:
    assert is_cluster(ctx.redis)
    script = ctx.redis.register_script("return {KEYS[1], ARGV[1] * 2}")
    await ctx.redis.script_load(script.script)
    keys = [status_key(PREFIX, e) for e in PROBE_EVENTS]
    per_master = {port: 0 for port in masters}
    for n in range(300):
        per_master[redis_cluster.master_of_key(keys[n % len(keys)])] += 1
    before = {port: evalsha_stats(redis_cluster, port) for port in masters}
    runner = ScriptRunner(ctx.redis)
    try:
        replies = await asyncio.gather(
            *(runner.run(script, [keys[n % len(keys)]], [n]) for n in range(300))
        )
    finally:
        await runner.aclose()
    assert [(r[0].decode(), int(r[1])) for r in replies] == [
        (keys[n % len(keys)], 2 * n) for n in range(300)
    ]
    for port in masters:
        calls, rejected = evalsha_stats(redis_cluster, port)
        assert calls - before[port][0] >= per_master[port] > 0, port
        assert rejected == before[port][1], f"{port} redirected calls"


async def test_call_for_a_moved_slot_runs_once_on_its_new_master(
    ctx: ServiceContext, redis_cluster: LocalRedisCluster, masters: list[int]
) -> None:
    key = f"{event_tag(PREFIX, 900_100)}:moved"
    script = ctx.redis.register_script("return redis.call('INCR', KEYS[1])")
    runner = ScriptRunner(ctx.redis)
    try:
        assert await runner.run(script, [key], []) == 1
        await ctx.redis.delete(key)  # the slot must be empty to be handed over as is
        old = redis_cluster.master_of_key(key)
        new = next(port for port in masters if port != old)
        redis_cluster.move_slot(slot(key), new)
        # The runner still maps the slot to the old master: MOVED, then the cluster client.
        assert await runner.run(script, [key], []) == 1
        with redis_cluster.client(new) as client:
            assert client.get(key) == b"1"
        await ctx.redis.delete(key)
    finally:
        await runner.aclose()


@pytest.fixture
def frozen_replica(redis_cluster: LocalRedisCluster) -> Iterator[tuple[str, int]]:
    """A key whose master's replica is stopped (SIGSTOP) for the test, and that replica."""
    key = f"{event_tag(PREFIX, 900_200)}:replicated"
    replica = redis_cluster.replica_of(redis_cluster.master_of_key(key))
    pid = redis_cluster.procs[replica].pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield key, replica
    finally:
        os.kill(pid, signal.SIGCONT)
        redis_cluster.wait_healthy()


async def test_a_write_is_acknowledged_only_once_the_replica_has_it(
    ctx: ServiceContext, redis_cluster: LocalRedisCluster
) -> None:
    key = f"{event_tag(PREFIX, 900_300)}:replicated"
    replica = redis_cluster.replica_of(redis_cluster.master_of_key(key))
    script = ctx.redis.register_script("return redis.call('INCR', KEYS[1])")
    runner = ScriptRunner(ctx.redis)
    try:
        for n in range(1, 21):
            assert await runner.run(script, [key], []) == n
            with redis_cluster.client(replica) as client:
                client.execute_command("READONLY")
                assert client.get(key) == str(n).encode()
    finally:
        await runner.aclose()
        await ctx.redis.delete(key)


async def test_a_write_the_replica_cannot_confirm_is_not_acknowledged(
    ctx: ServiceContext, frozen_replica: tuple[str, int]
) -> None:
    key, _ = frozen_replica
    script = ctx.redis.register_script("return redis.call('INCR', KEYS[1])")
    runner = ScriptRunner(ctx.redis)
    try:
        with pytest.raises(NotReplicated):
            await runner.run(script, [key], [])
    finally:
        await runner.aclose()
        await ctx.redis.delete(key)


async def test_a_client_given_several_nodes_starts_while_the_first_is_unreachable(
    redis_cluster: LocalRedisCluster,
) -> None:
    dead = "redis://127.0.0.1:1/0"
    with pytest.raises(REDIS_UNAVAILABLE):
        await redis_client(dead, cluster=True).initialize()
    client = redis_client(f"{dead}, {redis_cluster.url}", cluster=True)
    try:
        key = f"{event_tag(PREFIX, 900_400)}:probe"
        assert await client.set(key, b"1")
        assert await client.getdel(key) == b"1"
    finally:
        await client.aclose()
