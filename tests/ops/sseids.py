"""SSE clients that record every message id they receive, resuming with Last-Event-ID.

Each client is a raw asyncio socket (HTTP/1.0, so the body is the event stream
itself) from one of several loopback source addresses. It starts from a given
position, and whenever its stream ends it connects again with the last id it
received. `gaps` compares what a client received with the change log: every
entry after its start position, each once and in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field

from tests.ops.ssemessages import SseMessage, SseSplitter

SOURCES = [f"127.0.0.{n}" for n in range(2, 10)]
RECONNECT_S = 0.2


@dataclass
class IdClient:
    """One client of `/events/{event_id}/stream` at host:port, from `source`."""

    host: str
    port: int
    event_id: int
    start_id: str
    source: str = "127.0.0.1"
    ids: list[str] = field(default_factory=list)  # Stream ids ("ms-seq"), in arrival order
    connects: int = 0
    resets: int = 0
    _task: asyncio.Task[None] | None = None

    @property
    def last_id(self) -> str:
        """The position to resume from: the last id received, else the start."""
        return self._last_position or self.start_id

    _last_position: str = ""

    def start(self) -> IdClient:
        """Follow the stream in the background."""
        self._task = asyncio.create_task(self._follow())
        return self

    async def stop(self) -> None:
        """Stop following."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                await self._once()
            await asyncio.sleep(RECONNECT_S)

    async def _once(self) -> None:
        reader, writer = await asyncio.open_connection(
            self.host, self.port, local_addr=(self.source, 0)
        )
        try:
            request = (
                f"GET /events/{self.event_id}/stream HTTP/1.0\r\nHost: {self.host}\r\n"
                f"Accept: text/event-stream\r\nLast-Event-ID: {self.last_id}\r\n\r\n"
            )
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")):
                return
            self.connects += 1
            splitter = SseSplitter()
            while chunk := await reader.read(65536):
                for message in splitter.feed(chunk):
                    self._take(message)
        finally:
            writer.close()

    def _take(self, message: SseMessage) -> None:
        if message.event == "reset":
            self.resets += 1
        if message.id:
            self._last_position = message.id
            self.ids.append(message.id.partition(".")[0])


def gaps(received: list[str], log_ids: list[str], start_id: str) -> tuple[int, int]:
    """(entries of the log after `start_id` that never arrived, ids that arrived twice or
    out of order), for a client that started at `start_id` (a Stream id)."""
    after = [i for i in log_ids if _sid(i) > _sid(start_id)]
    got = set(received)
    missing = sum(1 for i in after if i not in got)
    disorder = sum(1 for a, b in itertools.pairwise(received) if _sid(b) <= _sid(a))
    return missing, disorder


def _sid(text: str) -> tuple[int, int]:
    ms, _, seq = text.partition(".")[0].partition("-")
    return int(ms), int(seq or 0)
