"""The script client and the batching script runner behave like plain redis-py calls."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.exceptions import RedisError, ResponseError

from lockservice.fastredis import ScriptRunner, script_client
from seatmap.context import ServiceContext


async def test_batched_calls_each_get_their_own_reply(ctx: ServiceContext) -> None:
    redis, own = script_client(ctx.redis)
    try:
        script = redis.register_script("return {KEYS[1], ARGV[1] * 2}")
        await redis.script_load(script.script)
        runner = ScriptRunner(redis)
        key = f"{ctx.settings.redis_prefix}fast:{{t}}"
        replies = await asyncio.gather(*(runner.run(script, [key], [n]) for n in range(300)))
        assert [int(r[1]) for r in replies] == [2 * n for n in range(300)]
    finally:
        if own:
            await redis.aclose()


async def test_unknown_script_is_loaded_and_run_once_more(ctx: ServiceContext) -> None:
    redis, own = script_client(ctx.redis)
    try:
        # A script body no Redis has seen: the first EVALSHA answers NOSCRIPT.
        script = redis.register_script(f"return '{uuid.uuid4().hex}'")
        runner = ScriptRunner(redis)
        first, second = await asyncio.gather(runner.run(script, [], []), runner.run(script, [], []))
        assert first == second and len(first) == 32
    finally:
        if own:
            await redis.aclose()


async def test_a_failing_script_fails_only_its_own_call(ctx: ServiceContext) -> None:
    redis, own = script_client(ctx.redis)
    try:
        good = redis.register_script("return 1")
        bad = redis.register_script("return redis.error_reply('no good')")
        for script in (good, bad):
            await redis.script_load(script.script)
        runner = ScriptRunner(redis)
        results = await asyncio.gather(
            runner.run(good, [], []), runner.run(bad, [], []), return_exceptions=True
        )
        assert results[0] == 1 and isinstance(results[1], ResponseError)
        # Commands with a space in their name are split as redis-py does.
        assert await redis.execute_command("CONFIG GET", "maxmemory")
    finally:
        if own:
            await redis.aclose()


async def test_an_unreachable_redis_fails_every_waiting_call(ctx: ServiceContext) -> None:
    from seatmap.runtime import redis_client

    dead = redis_client("redis://127.0.0.1:1/0")
    redis, own = script_client(dead)
    try:
        script = redis.register_script("return 1")
        runner = ScriptRunner(redis)
        results = await asyncio.gather(
            *(runner.run(script, [], []) for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(r, RedisError | OSError) for r in results)
        with pytest.raises((RedisError, OSError)):
            await runner.run(script, [], [])
    finally:
        if own:
            await redis.aclose()
        await dead.aclose()
