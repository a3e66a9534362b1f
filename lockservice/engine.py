"""The lock service's parts and background work, apart from its HTTP routes.

`LockEngine(ctx)` holds the scripts, holds, rate limits and stream hub that the
routes call; `lockservice.service.LockService` adds the routes. At startup it loads the Lua
scripts, reconciles every event with PostgreSQL, and starts three tasks: the
expiry sweeper (every `settings.sweep_interval_s`), the reconciler (every
`settings.reconcile_interval_s`) and the SSE heartbeat. On SIGTERM/SIGINT it
ends open SSE streams at once with a retry hint, so the server's graceful
shutdown is not held up by them; `shutdown()` does the same for anything left.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from redis.exceptions import RedisError

from lockservice.adminscripts import register_scripts
from lockservice.fastredis import ScriptRunner, script_client
from lockservice.holds import SWEEP_BATCH, Holds
from lockservice.ratelimit import RateLimiter
from lockservice.reconcile import event_ids, reconcile_event
from lockservice.sales import resolve_stuck
from lockservice.sse import StreamHub
from seatmap.context import ServiceContext

log = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_S = 15.0
SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class LockEngine:
    """The lock service's parts and background work: scripts, holds, limits, streams."""

    def __init__(self, ctx: ServiceContext, sse_heartbeat_s: float = DEFAULT_HEARTBEAT_S) -> None:
        self.ctx = ctx
        self.script_redis, self._own_script_redis = script_client(ctx.redis)
        self.scripts = register_scripts(self.script_redis)
        self.holds = Holds(ctx, self.scripts, ScriptRunner(self.script_redis))
        self.limiter = RateLimiter(ctx, self.scripts.rate)
        self.hub = StreamHub(ctx, sse_heartbeat_s)
        # Events the sweeper looks at: all events at the last reconcile, plus any used since.
        self.events: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._signal_handlers: dict[int, Any] = {}

    async def startup(self) -> None:
        """Load scripts, reconcile every event, start the sweeper, reconciler and heartbeat."""
        try:
            await self.scripts.load(self.script_redis)
            await self.reconcile_all()
        except (RedisError, OSError) as exc:  # keep starting; the loops retry
            log.warning(
                "lock service started without Redis or PostgreSQL: %s: %s", type(exc).__name__, exc
            )
        self.hub.start()
        self._stopping = False
        self._tasks = [
            asyncio.create_task(
                self._every(self.ctx.settings.sweep_interval_s, self.sweep_once), name="sweeper"
            ),
            asyncio.create_task(
                self._every(self.ctx.settings.reconcile_interval_s, self.reconcile_all),
                name="reconciler",
            ),
        ]
        self._install_signal_handlers()

    async def shutdown(self) -> None:
        """End SSE streams with a retry hint and stop the background tasks."""
        self._restore_signal_handlers()
        await self.hub.stop()
        self._stopping = True
        pending = set(self._tasks)
        # Cancel until done: a cancellation that lands inside a Redis call can be lost
        # (asyncio.wait_for on Python 3.11), and the loops also check `_stopping`.
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.5)
        self._tasks = []
        if self._own_script_redis:
            await self.script_redis.aclose()

    async def reconcile_all(self) -> None:
        """Reconcile every event with PostgreSQL and refresh the sweeper's event list."""
        ids = await event_ids(self.ctx)
        for event_id in ids:
            await reconcile_event(self.ctx, event_id, self.scripts)
        self.events.update(ids)

    async def sweep_once(self) -> int:
        """End every hold that is due; resolve holds stuck confirming. Returns holds looked at."""
        events = sorted(self.events)
        if not events:
            return 0
        now_ms = self.ctx.clock.now_ms()
        async with self.ctx.redis.pipeline(transaction=False) as pipe:
            for event_id in events:
                pipe.zrangebyscore(
                    self.holds.keys(event_id).expiry, "-inf", now_ms, start=0, num=SWEEP_BATCH
                )
            due_lists = await pipe.execute()
        seen = 0
        for event_id, due in zip(events, due_lists, strict=True):
            if not due:
                continue
            seen += len(due)
            for token in await self.holds.sweep(event_id, due):
                await resolve_stuck(self.ctx, self.holds, event_id, token)
        return seen

    async def _every(self, interval_s: float, work: Callable[[], Awaitable[Any]]) -> None:
        """Run `work` every `interval_s` seconds, surviving backend outages."""
        while not self._stopping:
            await asyncio.sleep(interval_s)
            if self._stopping:
                return
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning(
                    "%s: backend unavailable: %s: %s", work.__name__, type(exc).__name__, exc
                )
            except Exception:
                log.exception("%s failed", work.__name__)

    def _install_signal_handlers(self) -> None:
        """Chain a handler that ends SSE streams before the server's own shutdown."""
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for sig in SHUTDOWN_SIGNALS:
            previous = signal.getsignal(sig)

            def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
                loop.call_soon_threadsafe(self.hub.close_all)
                if callable(previous):
                    previous(signum, frame)
                elif previous == signal.SIG_DFL:
                    signal.signal(signum, signal.SIG_DFL)
                    signal.raise_signal(signum)

            signal.signal(sig, handler)
            self._signal_handlers[sig] = previous

    def _restore_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, previous in self._signal_handlers.items():
            signal.signal(sig, previous)
        self._signal_handlers.clear()
