"""One open SSE response, written to by its broadcaster without waiting for the client.

The broadcaster (`lockservice.broadcaster`) writes each message to every
connection itself, in one loop: no task wakes up per client. A write normally
completes at once (uvicorn hands it to the socket); only when a client stops
reading does its send wait for the socket to drain, and then `Connection`
finishes that send in a task of its own (the drain) and queues that client's
next messages, so one slow client never delays the others.

One writer at a time: the ASGI send of a connection is only ever awaited by one
task. While a send waits, everything else (messages, heartbeats, resets, the
last message at shutdown) is queued for the drain, which writes it in order once
the socket takes more, and then hands writing back to the broadcaster.

The queue is bounded in bytes (MAX_QUEUED_BYTES). A client that overflows it
loses the queued messages and, once its socket drains, gets `event: reset` at
the broadcaster's position and then the live messages from there: never a
silent gap. So a connection costs at most MAX_QUEUED_BYTES here plus what the
server's socket buffer holds (uvicorn stops at asyncio's 64 KiB high-water mark
and one message beyond it).

A write that fails (the client went away mid-write, the server is closing) ends
that one stream: it is logged once as a warning, nothing else is written, and
`finished` completes, so the endpoint returns and the server closes the socket
(the client's EventSource reconnects). Both an overflow ("lagged") and a failed
write ("write_error") are told to `on_drop`, if given (the endpoint counts them
in `seatmap_sse_drops_total`).

`Connection` starts the ASGI send coroutine by hand and only makes a task if it
has to wait, like an eagerly started task (`eager_start` in Python 3.12).
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
        "_ending",
        "_queued",
        "_queued_bytes",
        "catching_up",
        "closed",
        "finished",
        "lagged",
        "on_drop",
        "send",
        "sent",
        "source",
    )

    def __init__(
        self, send: Send, source: Source, on_drop: Callable[[str], None] | None = None
    ) -> None:
        self.send = send
        self.source = source
        self.on_drop = on_drop
        self.sent: StreamId = (-1, -1)  # newest entry this client has
        self.catching_up = True  # the endpoint is still working out the catch-up
        self.closed = False  # nothing more is written
        self.lagged = False  # the queue overflowed: a reset is owed
        # Done once nothing more will be written: the endpoint then returns.
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued: deque[Queued] = deque()
        self._queued_bytes = 0
        self._ending: bytes | None = None  # the last message, once the stream is to end
        self._drain_task: asyncio.Task[None] | None = None

    def deliver(self, sid: StreamId | None, data: bytes, reset: bool = False) -> None:
        """Send a message now, or queue it while the client catches up or drains.

        A reset replaces whatever was queued and moves the client to `sid`, which
        may be lower than what it had (a new life of the Stream starts anew).
        """
        if self.closed or self._ending is not None:
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
                if self.on_drop is not None:
                    self.on_drop("lagged")
                return
            self._queued.append((sid, data, reset))
            self._queued_bytes += len(data)
            return
        if self._take(sid, reset):
            self._write(data)

    def resume_at(self, sid: StreamId) -> None:
        """The catch-up just computed covers everything sent so far: drop what was queued."""
        self._clear()
        self.lagged = False
        self.sent = sid

    def begin(self, data: bytes) -> None:
        """Write the catch-up, then what queued meanwhile, then go live (never waits)."""
        if self.closed:
            return
        self.catching_up = False
        self._write(data)
        self._pump()

    def end(self, data: bytes) -> None:
        """Write a last message and complete the response.

        While the catch-up is being worked out, it follows the catch-up. A client that
        is not taking what is in flight is not waited for: its stream is closed now.
        """
        if self.closed or self._ending is not None:
            return
        self._ending = data
        if self._drain_task is not None:
            self._close()
        elif not self.catching_up:
            self._pump()

    def fail(self, exc: BaseException) -> None:
        """Stop writing to this stream after an error, saying so once; the stream ends."""
        if not self.closed:
            log.warning(
                "SSE stream of event %s closed after a write error: %s: %s",
                self.source.event_id, type(exc).__name__, exc,
            )  # fmt: skip
            if self.on_drop is not None:
                self.on_drop("write_error")
        self._close()

    def stop(self) -> None:
        """The endpoint is returning: write nothing more, and abandon a send in flight."""
        self._close()
        task = self._drain_task
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _close(self) -> None:
        self.closed = True
        self._clear()
        if not self.finished.done():
            self.finished.set_result(None)

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

    def _next(self) -> bytes | None:
        """The next queued message to write (a reset first if one is owed), or None."""
        while True:
            if self.lagged:
                self.lagged = False
                self._clear()
                at, self.sent = self.source.position()
                return reset_message(at, "lagged")
            if not self._queued:
                return None
            sid, data, reset = self._queued.popleft()
            self._queued_bytes -= len(data)
            if self._take(sid, reset):
                return data

    def _pump(self) -> None:
        """Write what is queued while the socket takes it at once; the drain does the rest."""
        while not self.closed and self._drain_task is None:
            data = self._next()
            if data is not None:
                self._write(data)
            elif self._ending is not None:
                self._write(self._ending, more=False)
            else:
                return

    def _write(self, data: bytes, more: bool = True) -> None:
        """Start the ASGI send; if it must wait for the socket, finish it in the drain task."""
        coro = self.send({"type": "http.response.body", "body": data, "more_body": more})
        assert isinstance(coro, Coroutine)
        try:
            waiting = coro.send(None)
        except StopIteration:
            if not more:
                self._close()
            return
        except Exception as exc:
            self.fail(exc)
            return
        self._drain_task = asyncio.create_task(self._drain(coro, waiting, more))

    async def _drain(self, coro: Coroutine[Any, Any, Any], waiting: Any, more: bool) -> None:
        """The one writer while the socket is slow: the send in flight, then what queued."""
        try:
            await _finish(coro, waiting)
            while more and not self.closed:
                data = self._next()
                if data is None and self._ending is not None:
                    data, more = self._ending, False
                elif data is None:
                    break
                await self.send({"type": "http.response.body", "body": data, "more_body": more})
            if not more:
                self._close()
        except Exception as exc:
            self.fail(exc)
        finally:
            self._drain_task = None


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
