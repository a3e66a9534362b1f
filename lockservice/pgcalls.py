"""PostgreSQL calls with bounded time, retried once when they are safe to repeat.

A PostgreSQL that hangs (a network partition, a full disk, a lock held for
ever) must not hold up what does not need it: every call the lock service makes
runs under `PG_CALL_TIMEOUT_S`, and a call that overruns raises TimeoutError,
which `httpkit.errors` answers 503 + Retry-After like any backend fault.
Reads, and writes made idempotent by their own design (a confirm under one
Idempotency-Key), may be retried once after a connection-level fault, on a
fresh connection from the pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from httpkit.errors import is_backend_fault

T = TypeVar("T")

PG_CALL_TIMEOUT_S = 5.0
RETRY_PAUSE_S = 0.05


async def bounded(
    call: Callable[[], Awaitable[T]], retry: bool = False, timeout_s: float = PG_CALL_TIMEOUT_S
) -> T:
    """Run `call()` within `timeout_s`; with `retry`, once more after a backend fault."""
    try:
        async with asyncio.timeout(timeout_s):
            return await call()
    except Exception as exc:
        if not retry or isinstance(exc, TimeoutError) or not is_backend_fault(exc):
            raise
    await asyncio.sleep(RETRY_PAUSE_S)
    async with asyncio.timeout(timeout_s):
        return await call()
