"""A live seat map as a browser keeps it: status.bin, then the SSE stream, resuming
with Last-Event-ID after any disconnect and reloading the snapshot on `reset`."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import orjson

from tests.ops.ssemessages import SseSplitter


class LiveMap:
    """Follows one event's stream at `url` and keeps every seat's public status."""

    def __init__(self, url: str, event_id: int) -> None:
        self.url = url
        self.event_id = event_id
        self.statuses = bytearray()
        self.last_id = ""
        self.connects = 0
        self.resets = 0
        self.messages = 0
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def _snapshot(self, http: httpx.AsyncClient) -> None:
        response = await http.get(f"/events/{self.event_id}/status.bin")
        response.raise_for_status()
        self.statuses = bytearray(response.content)
        self.last_id = response.headers["x-last-event-id"]

    async def _follow(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=httpx.Timeout(5, read=60)) as http:
            while True:
                try:
                    if not self.last_id:
                        await self._snapshot(http)
                    headers = {"Accept": "text/event-stream", "Last-Event-ID": self.last_id}
                    path = f"/events/{self.event_id}/stream"
                    async with http.stream("GET", path, headers=headers) as response:
                        if response.status_code != 200:
                            await asyncio.sleep(0.2)
                            continue
                        self.connects += 1
                        self.connected.set()
                        await self._read(response, http)
                except (httpx.HTTPError, OSError):
                    await asyncio.sleep(0.2)

    async def _read(self, response: httpx.Response, http: httpx.AsyncClient) -> None:
        splitter = SseSplitter()
        async for chunk in response.aiter_bytes():
            for message in splitter.feed(chunk):
                if message.event == "reset":
                    self.resets += 1
                    await self._snapshot(http)
                elif message.data:
                    for seat, status in orjson.loads(message.data).get("seats", []):
                        self.statuses[seat] = status
                    self.messages += 1
                    if message.id:
                        self.last_id = message.id

    def start(self) -> LiveMap:
        """Start following in the background."""
        self._task = asyncio.create_task(self._follow())
        return self

    async def stop(self) -> None:
        """Stop following."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
