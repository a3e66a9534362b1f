"""One open SSE response, written to by its broadcaster without waiting for the client.

The broadcaster (`lockservice.broadcaster`) writes each message to every
connection itself, in one loop: no task wakes up per client. A write normally
completes at once (uvicorn hands it to the socket); only when a client stops
reading does its send wait for the socket to drain, and then `Connection`
finishes that send in a task of its own and queues that client's next messages,
so one slow client never delays the others.

The queue is bounded in bytes (MAX_QUEUED_BYTES). A client that overflows it
loses the queued messages and, once its socket drains, gets `event: reset` at
the broadcaster's position and then the live messages from there: never a
silent gap. So a connection costs at most MAX_QUEUED_BYTES here plus what the
server's socket buffer holds (uvicorn stops at asyncio's 64 KiB high-water mark
and one message beyond it).

A write that fails (the client went away mid-write, the server is closing) ends
that one stream: it is logged once as a warning and nothing else is written.

`Connection.write` starts the ASGI send coroutine by hand and only makes a task
if it has to wait, like an eagerly started task (`eager_start` in Python 3.12).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from lockservice.ssewire import StreamId, reset_message

log = logging.getLogger(__name__)

MAX_QUEUED_BYTES = 64 * 1024

Send = Callable[[dict[str, Any]], Awaitable[None]]
Queued = tuple[StreamId | None, bytes, bool]  # (Stream id, SSE bytes, is a reset)


class Source(Protocol):
    """Where a connection's messages come from: its position, for resets."""

    event_id: int

    def position(self) -> tuple[str, StreamId]:
        """(client-facing position, Stream id) of the newest message sent."""
        ...


class Connection:
    """One open SSE response, written to by its endpoint task and by the broadcaster."""

    __slots__ = (
        "_drain_task",
        "_queued",
        "_queued_bytes",
        "catching_up",
        "closed",
        "lagged",
        "send",
        "sent",
        "source",
    )

    def __init__(self, send: Send, source: Source) -> None:
        self.send = send
        self.source = source
        self.sent: StreamId = (-1, -1)  # newest entry this client has
        self.catching_up = True  # the endpoint is still sending the catch-up
        self.closed = False
        self.lagged = False  # the queue overflowed: a reset is owed
        self._queued: deque[Queued] = deque()
        self._queued_bytes = 0
        self._drain_task: asyncio.Task[None] | None = None

    def deliver(self, sid: StreamId | None, data: bytes, reset: bool = False) -> None:
        """Send a message now, or queue it while the client catches up or drains.

        A reset replaces whatever was queued and moves the client to `sid`, which
        may be lower than what it had (a new life of the Stream starts anew).
        """
        if self.closed:
            return
        if self.catching_up or self._drain_task is not None:
            if reset:
                self._clear()
                self.lagged = False
            elif self.lagged:
                return  # dropped: the reset owed covers it
            elif self._queued_bytes + len(data) > MAX_QUEUED_BYTES:
                self._clear()
                self.lagged = True
                return
            self._queued.append((sid, data, reset))
            self._queued_bytes += len(data)
            return
        if self._take(sid, reset):
            self.write(data)

    def resume_at(self, sid: StreamId) -> None:
        """The catch-up just computed covers everything sent so far: drop what was queued."""
        self._clear()
        self.lagged = False
        self.sent = sid

    def _take(self, sid: StreamId | None, reset: bool) -> bool:
        """Whether a message is new to this client (and note that it has it now)."""
        if sid is None:
            return True
        if reset or sid > self.sent:
            self.sent = sid
            return True
        return False

    def _clear(self) -> None:
        self._queued.clear()
        self._queued_bytes = 0

    def write(self, data: bytes, more: bool = True) -> None:
        """Start the ASGI send; if it must wait for the socket, finish it in a task."""
        coro = self.send({"type": "http.response.body", "body": data, "more_body": more})
        assert isinstance(coro, Coroutine)
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception as exc:
            self.fail(exc)
            return
        self._drain_task = asyncio.create_task(self._drain(coro, waiting))

    def end(self, data: bytes) -> None:
        """Write a last message and complete the response (if nothing is in flight)."""
        if not self.closed and not self.catching_up and self._drain_task is None:
            self.write(data, more=False)
        self.closed = True

    def fail(self, exc: BaseException) -> None:
        """Stop writing to this stream after an error, saying so once."""
        if not self.closed:
            log.warning(
                "SSE stream of event %s closed after a write error: %s: %s",
                self.source.event_id, type(exc).__name__, exc,
            )  # fmt: skip
        self.closed = True
        self._clear()

    async def _drain(self, coro: Coroutine[Any, Any, Any], waiting: Any) -> None:
        try:
            await _finish(coro, waiting)
            await self.flush()
        except Exception as exc:
            self.fail(exc)
        finally:
            self._drain_task = None

    async def go_live(self) -> None:
        """After the catch-up was written: send what queued meanwhile, then go live."""
        if self._drain_task is None:  # else the drain does it once the socket takes more
            await self.flush()

    async def flush(self) -> None:
        """Send what was queued (a reset first if one is owed), then go live."""
        while not self.closed:
            if self.lagged:
                self.lagged = False
                self._clear()
                at, self.sent = self.source.position()
                await self._send(reset_message(at, "lagged"))
                continue
            if not self._queued:
                break
            sid, data, reset = self._queued.popleft()
            self._queued_bytes -= len(data)
            if self._take(sid, reset):
                await self._send(data)
        self.catching_up = False

    async def _send(self, data: bytes) -> None:
        await self.send({"type": "http.response.body", "body": data, "more_body": True})


async def _finish(coro: Coroutine[Any, Any, Any], waiting: Any) -> None:
    """Drive a coroutine that was started by hand and is waiting on `waiting`."""
    while True:
        try:
            if waiting is None:
                await asyncio.sleep(0)
            else:  # a future the coroutine yields is its own to await: wait for it instead
                await asyncio.wait({waiting})
        except BaseException as exc:  # hand failures (and cancellation) to the coroutine
            try:
                waiting = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
