"""The webhook background work of one app node: the outbox feed and the delivery worker.

Started and stopped with the lock service (`lockservice.service`) when
`settings.webhook_enabled`. Both loops run every `settings.webhook_poll_s`
(the feed at once again while it finds full batches, the worker as soon as one
of its attempts ends) and survive backend outages; several nodes may run them
together (see `lockservice.webhooks_feed` and `lockservice.webhooks_worker`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from httpkit.errors import is_backend_fault
from lockservice.webhooks_feed import READ_COUNT, OutboxFeed
from lockservice.webhooks_worker import CLAIM_BATCH, DeliveryWorker
from seatmap.context import ServiceContext

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 5.0


class WebhookRunner:
    """Runs the outbox feed and the delivery worker in tasks of their own."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.feed = OutboxFeed(ctx)
        self.worker: DeliveryWorker | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._wake = asyncio.Event()  # set when stopping

    def start(self) -> None:
        """Start both loops (nothing when webhooks are off on this node)."""
        if not self.ctx.settings.webhook_enabled or self._tasks:
            return
        self._stopping = False
        self._wake = asyncio.Event()
        self.worker = DeliveryWorker(self.ctx)
        self._tasks = [
            asyncio.create_task(
                self._loop(self.feed.run_once, READ_COUNT, self._wake), name="webhook-feed"
            ),
            asyncio.create_task(
                self._loop(self.worker.run_once, CLAIM_BATCH, self.worker.slot_freed),
                name="webhook-delivery",
            ),
        ]

    async def stop(self) -> None:
        """Stop both loops: attempts under way may finish and be recorded (for up to
        STOP_TIMEOUT_S); one cut short comes due again when its lease ends."""
        self._stopping = True
        self._wake.set()
        if self.worker is not None:
            self.worker.slot_freed.set()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        pending = set(self._tasks)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=STOP_TIMEOUT_S)
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.5)
        self._tasks = []
        if self.worker is not None:
            await self.worker.drain(deadline - time.monotonic())
            await self.worker.aclose()
            self.worker = None

    async def _loop(
        self, work: Callable[[], Awaitable[int]], busy: int, wake: asyncio.Event
    ) -> None:
        """Run `work` every poll interval, at once again when it did `busy` or more, or as
        soon as `wake` is set (stopping sets it too)."""
        interval_s = self.ctx.settings.webhook_poll_s
        while not self._stopping:
            wake.clear()
            done = 0
            try:
                done = await work()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_backend_fault(exc):
                    log.warning("webhooks: backend unavailable: %s: %s", type(exc).__name__, exc)
                else:
                    log.exception("webhooks: %s failed", getattr(work, "__qualname__", work))
            if done < busy and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), interval_s)
