"""One load-generator process of the fan-out benchmark: many SSE clients, read cheaply.

    python benchmarks/fanout_clients.py SPEC_JSON

SPEC_JSON: {"targets": [[host, port], ...], "paths": [...], "clients": N,
"sources": ["127.0.0.2", ...], "instrumented": K}. Client i connects to
targets[i % len(targets)] from sources[i % len(sources)] and follows
paths[i % len(paths)]. It prints `CONNECTED n` once every client got its
response head, then reads until a line arrives on stdin, and prints one JSON
line: per path, the data messages each client received (and those of the clients
whose stream the server closed); per instrumented client
(the first K), when each held seat's message arrived (time.monotonic(), which
is one clock for every process of the machine).

Each client is a bare asyncio Protocol that counts `data:` lines in what it
receives, so nearly all CPU of the run goes to the servers being measured.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from typing import Any

HELD = re.compile(rb'"seats":\[\[(\d+),1\]')
CONNECT_BATCH = 250
CONNECT_ATTEMPTS = 8


class StreamClient(asyncio.Protocol):
    """Counts SSE data messages; an instrumented one also timestamps held seats."""

    def __init__(self, request: bytes, instrumented: bool) -> None:
        self.request = request
        self.instrumented = instrumented
        self.head = asyncio.get_running_loop().create_future()
        self.messages = 0
        self.arrivals: dict[int, float] = {}
        self._tail = b""
        self._seen_head = False
        self.closed = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        chunk = self._tail + data
        if not self._seen_head:
            end = chunk.find(b"\r\n\r\n")
            if end < 0:
                self._tail = chunk[-65536:]
                return
            self._seen_head = True
            if not self.head.done():
                self.head.set_result(chunk[:12])
            chunk = chunk[end + 4 :]
        # `data:` split across two reads is found once: keep the last 5 bytes and count
        # occurrences that end in the new part only.
        self.messages += chunk.count(b"data:") - self._tail.count(b"data:")
        if self.instrumented:
            now = time.monotonic()
            for match in HELD.finditer(chunk):
                self.arrivals.setdefault(int(match.group(1)), now)
        self._tail = chunk[-5:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = self._seen_head
        if not self.head.done():
            self.head.set_exception(ConnectionError("closed before the response head"))


async def _open(
    loop: asyncio.AbstractEventLoop, spec: dict[str, Any], i: int
) -> tuple[int, StreamClient]:
    """Client `i`, connected and past its response head; retried like EventSource does."""
    host, port = spec["targets"][i % len(spec["targets"])]
    path_index = i % len(spec["paths"])
    request = (
        f"GET {spec['paths'][path_index]} HTTP/1.1\r\nHost: {host}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    ).encode()
    source = spec["sources"][i % len(spec["sources"])]
    for attempt in range(CONNECT_ATTEMPTS):
        client = StreamClient(request, i < spec["instrumented"])
        try:
            await loop.create_connection(
                lambda c=client: c, host, port, local_addr=(source, 0)  # type: ignore[misc]
            )
            head = await asyncio.wait_for(client.head, 30)
            if b" 200" in head:
                return path_index, client
        except (OSError, TimeoutError):
            pass
        if client.transport is not None:
            client.transport.close()
        await asyncio.sleep(0.5 * (attempt + 1))
    return path_index, client


async def run(spec: dict[str, Any]) -> None:
    """Connect every client, report, read until told to stop, report what arrived."""
    loop = asyncio.get_running_loop()
    clients: list[tuple[int, StreamClient]] = []
    for start in range(0, spec["clients"], CONNECT_BATCH):
        stop = min(start + CONNECT_BATCH, spec["clients"])
        clients += await asyncio.gather(*(_open(loop, spec, i) for i in range(start, stop)))
    ok = sum(c.head.done() and not c.head.exception() and b" 200" in c.head.result()
             for _, c in clients)
    print(f"CONNECTED {ok}", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    per_path: dict[int, list[int]] = {}
    closed: dict[int, list[int]] = {}  # per path: the message counts of streams that closed
    for path_index, client in clients:
        per_path.setdefault(path_index, []).append(client.messages)
        if client.closed:
            closed.setdefault(path_index, []).append(client.messages)
    arrivals = [
        {"path": p, "arrivals": {str(k): v for k, v in c.arrivals.items()}}
        for p, c in clients
        if c.instrumented
    ]
    report = {"messages": per_path, "closed": closed, "instrumented": arrivals}
    print(json.dumps(report), flush=True)
    for _, client in clients:
        if client.transport is not None:
            client.transport.close()


if __name__ == "__main__":
    asyncio.run(run(json.loads(sys.argv[1])))
