"""The lock service's parts and background work, apart from its HTTP routes.

`LockEngine(ctx)` holds the scripts, holds, rate limits and stream hub that the
routes call; `lockservice.service.LockService` adds the routes. At startup it loads the Lua
scripts, reconciles every event with PostgreSQL, and starts three tasks: the
expiry sweeper (every `settings.sweep_interval_s`), the reconciler (every
`settings.reconcile_interval_s`) and the SSE heartbeat. The sweeper only talks to
Redis: each event is swept by a task of its own with bounded time, a round never
waits long for a slow one (a Redis Cluster master down or failing over stalls
only its own events), and a hold stuck in "confirming" (its sale's outcome needs
PostgreSQL) is resolved by a task of its own, so a PostgreSQL outage or one slow
event never delays expiry elsewhere.
On SIGTERM/SIGINT it
ends open SSE streams at once with a retry hint, so the server's graceful
shutdown is not held up by them; `shutdown()` does the same for anything left.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from httpkit.errors import is_backend_fault
from lockservice.adminscripts import register_scripts
from lockservice.fastredis import ScriptRunner, script_client
from lockservice.grippublish import GripPublisher
from lockservice.holds import SWEEP_BATCH, Holds
from lockservice.ratelimit import RateLimiter
from lockservice.reconcile import event_ids, reconcile_event
from lockservice.sales import resolve_stuck
from lockservice.sse import StreamHub, sse_message
from seatmap.context import ServiceContext

log = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_S = 15.0
SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# One event's sweep (Redis only) or reconcile (PostgreSQL too) may take this long at most.
EVENT_SWEEP_TIMEOUT_S = 2.0
# A background sweep round waits this long at most for its events' tasks (see sweep_once).
SWEEP_ROUND_S = 0.25
EVENT_RECONCILE_TIMEOUT_S = 10.0
# Stuck sales resolved at once (each needs a PostgreSQL connection for a moment).
MAX_RESOLVING = 8


class LockEngine:
    """The lock service's parts and background work: scripts, holds, limits, streams."""

    def __init__(self, ctx: ServiceContext, sse_heartbeat_s: float = DEFAULT_HEARTBEAT_S) -> None:
        self.ctx = ctx
        self.script_redis, self._own_script_redis = script_client(ctx.redis)
        self.scripts = register_scripts(self.script_redis)
        self.runner = ScriptRunner(self.script_redis)
        self.holds = Holds(ctx, self.scripts, self.runner)
        self.limiter = RateLimiter(ctx, self.scripts.rate)
        self.hub = StreamHub(ctx, sse_heartbeat_s)
        # Events the sweeper looks at: all events at the last reconcile, plus any used since.
        self.events: set[int] = set()
        # Publishes changes to the GRIP proxies holding SSE connections, when there are any.
        self.grip = (
            GripPublisher(ctx, self.events, sse_message) if ctx.settings.grip_publish_urls else None
        )
        self._tasks: list[asyncio.Task[None]] = []
        # Holds stuck in "confirming" being resolved, each by a task of its own.
        self._resolving: dict[tuple[int, str], asyncio.Task[None]] = {}
        self._resolve_slots = asyncio.Semaphore(MAX_RESOLVING)
        # Events being swept, each by a task of its own; events whose last sweep failed.
        self._sweeping: dict[int, asyncio.Task[int]] = {}
        self._sweep_failing: set[int] = set()
        self._stopping = False
        self._signal_handlers: dict[int, Any] = {}

    async def startup(self) -> None:
        """Load scripts, reconcile every event, start the sweeper, reconciler and heartbeat."""
        try:
            await self.scripts.load(self.script_redis)
            await self.reconcile_all()
        except Exception as exc:  # keep starting; the loops retry
            if not is_backend_fault(exc):
                raise
            log.warning(
                "lock service started without Redis or PostgreSQL: %s: %s", type(exc).__name__, exc
            )
        self.hub.start()
        if self.grip is not None:
            self.grip.start()
        self._stopping = False
        self._tasks = [
            asyncio.create_task(
                self._every(self.ctx.settings.sweep_interval_s, self._sweep_round), name="sweeper"
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
        if self.grip is not None:
            await self.grip.stop()
        self._stopping = True
        pending = {*self._tasks, *self._resolving.values(), *self._sweeping.values()}
        # Cancel until done: a cancellation that lands inside a Redis call can be lost
        # (asyncio.wait_for on Python 3.11), and the loops also check `_stopping`.
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.5)
        self._tasks = []
        await self.runner.aclose()
        if self._own_script_redis:
            await self.script_redis.aclose()

    async def reconcile_all(self) -> None:
        """Reconcile every event with PostgreSQL and refresh the sweeper's event list.

        Events are reconciled one by one, each within bounded time; one that fails
        is logged and does not stop the others.
        """
        ids = await event_ids(self.ctx)
        self.events.update(ids)
        for event_id in ids:
            try:
                async with asyncio.timeout(EVENT_RECONCILE_TIMEOUT_S):
                    await reconcile_event(self.ctx, event_id, self.scripts)
            except Exception as exc:
                if not is_backend_fault(exc):
                    raise
                log.warning("reconciling event %d: %s: %s", event_id, type(exc).__name__, exc)

    async def sweep_once(self, round_s: float | None = None) -> int:
        """End every hold that is due; resolve holds stuck confirming. Returns holds looked at.

        Each event is swept by a task of its own that reads its due holds by Redis's
        clock through the script runner (one pipeline per server, or per master of a
        Redis Cluster) and ends them. With `round_s`, the round waits that long at most:
        an event whose master is down or slow keeps its task (bounded by
        EVENT_SWEEP_TIMEOUT_S) and later rounds skip it until that task ends, so holds
        on every other master keep expiring on time. Without it, every task is awaited.
        """
        started = [
            self._sweeping.setdefault(e, asyncio.create_task(self._sweep_event(e)))
            for e in sorted(self.events)
            if e not in self._sweeping
        ]
        if not started:
            return 0
        done, _ = await asyncio.wait(started, timeout=round_s)
        looked_at = 0
        for task in done:
            if task.cancelled():
                continue
            error = task.exception()
            if error is not None:
                raise error
            looked_at += task.result()
        return looked_at

    async def _sweep_round(self) -> int:
        """One round of the background sweeper (bounded: see sweep_once)."""
        return await self.sweep_once(SWEEP_ROUND_S)

    async def resolved(self) -> None:
        """Wait until the stuck sales being resolved right now are settled (or failed)."""
        while self._resolving:
            await asyncio.wait(set(self._resolving.values()))

    async def _sweep_event(self, event_id: int) -> int:
        """Expire one event's due holds (bounded time); hand stuck sales to their own tasks.
        Returns the due holds looked at."""
        try:
            async with asyncio.timeout(EVENT_SWEEP_TIMEOUT_S):
                expiry = [self.holds.keys(event_id).expiry]
                due = await self.runner.run(
                    self.scripts.due, expiry, [self.holds.clock(), SWEEP_BATCH]
                )
                await self._note_lag(event_id, expiry[0], due)
                stuck = await self.holds.sweep(event_id, due) if due else []
        except Exception as exc:
            if not is_backend_fault(exc):
                raise
            if event_id not in self._sweep_failing:
                self._sweep_failing.add(event_id)
                log.warning("sweeping event %d: %s: %s", event_id, type(exc).__name__, exc)
            return 0
        finally:
            self._sweeping.pop(event_id, None)
        if event_id in self._sweep_failing:
            self._sweep_failing.discard(event_id)
            log.info("sweeping event %d works again", event_id)
        for token in stuck:
            if (event_id, token) not in self._resolving:
                task = asyncio.create_task(self._resolve(event_id, token))
                self._resolving[(event_id, token)] = task
        return len(due)

    async def _note_lag(self, event_id: int, expiry: str, due: list[Any]) -> None:
        """Set the event's `seatmap_sweeper_lag_seconds`: how long past expiry its oldest due
        hold is (0 if none), by this host's clock against the hold's Redis-time expiry."""
        lag_s = 0.0
        if due:
            expires_ms = await self.ctx.redis.zscore(expiry, due[0])
            now_ms = self.holds.clock() or time.time_ns() // 1_000_000
            lag_s = max(0.0, (now_ms - float(expires_ms or now_ms)) / 1000)
        self.ctx.metrics.sweeper_lag_seconds.labels(str(event_id)).set(lag_s)

    async def _resolve(self, event_id: int, token: str) -> None:
        """Settle one hold stuck confirming (PostgreSQL decides); a failure waits for the
        next sweep that finds it due again."""
        try:
            async with self._resolve_slots:
                await resolve_stuck(self.ctx, self.holds, event_id, token)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if is_backend_fault(exc):
                log.warning("resolving a stuck sale in event %d: %r", event_id, exc)
            else:
                log.exception("resolving a stuck sale in event %d failed", event_id)
        finally:
            self._resolving.pop((event_id, token), None)

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
            except Exception as exc:
                if not is_backend_fault(exc):
                    log.exception("%s failed", work.__name__)
                    continue
                log.warning(
                    "%s: backend unavailable: %s: %s", work.__name__, type(exc).__name__, exc
                )

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
