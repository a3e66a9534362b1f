"""Many SSE clients in one child process, and a check of what each of them ends up showing.

`python -m tests.ops.streamclients SPEC` (SPEC: JSON, see `Spec`) opens the streams at
once with raw asyncio sockets (HTTP/1.0, so the body is the event stream itself),
spread over several loopback source addresses. With `wait_go` it reads only the
response heads, prints `READY {...}` and reads nothing more until a line
`{"final_id": ...}` arrives on stdin (clients that stopped reading); otherwise it
reads at once. Every client keeps a seat map the way the viewer does: it starts from
`base` (the snapshot at `last_id`), applies each message's seats, and on `reset`
takes the truth at the reset's position, computed from the change log in Redis.
It stops at `final_id` and prints `DONE {...}`: how many answered 200, finished,
were reset, and ended with a map that differs from the truth.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import redis

from seatmap.status import PUBLIC_STATUS

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = np.array([PUBLIC_STATUS.get(i, i) for i in range(256)], dtype=np.uint8)


@dataclass
class Spec:
    """What the child does: where to connect, from where to resume, what is the truth."""

    port: int
    path: str
    last_id: str
    clients: int
    base_hex: str
    redis_url: str
    log_key: str
    final_id: str = ""
    # Last-Event-ID of client n is resume_ids[n % len] if given, else last_id.
    resume_ids: list[str] = field(default_factory=list)
    wait_go: bool = False
    defer_check: bool = False
    rcvbuf: int = 0
    sources: list[str] = field(default_factory=lambda: ["127.0.0.1"])
    deadline_s: float = 60.0


class LogTruth:
    """Every seat's public status after each change-log entry following the start."""

    def __init__(self, spec: Spec) -> None:
        base = np.frombuffer(bytes.fromhex(spec.base_hex), dtype=np.uint8)
        client = redis.Redis.from_url(spec.redis_url)
        start = spec.last_id.partition(".")[0]
        entries: Any = client.xrange(spec.log_key, min=f"({start}")
        self.index = {start: 0}
        self.states = np.empty((len(entries) + 1, base.size), dtype=np.uint8)
        self.states[0] = base
        for n, (entry_id, fields) in enumerate(entries, start=1):
            self.states[n] = self.states[n - 1]
            raw = fields.get(b"seats", b"")
            if raw:
                seats = np.array(raw.split(b","), dtype=np.int64)
                self.states[n][seats] = PUBLIC[int(fields[b"status"])]
            self.index[entry_id.decode()] = n

    def at(self, position: str) -> npt.NDArray[np.uint8] | None:
        """The statuses as of a position "ms-seq.generation" (None if not in the log)."""
        n = self.index.get(position.partition(".")[0])
        return None if n is None else self.states[n]


@dataclass
class Client:
    """One stream and the map its reader keeps."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    status: int
    state: npt.NDArray[np.uint8]
    last: str = ""
    messages: int = 0
    resets: int = 0
    done_s: float | None = None
    error: str = ""


async def connect(spec: Spec, n: int, base: npt.NDArray[np.uint8]) -> Client:
    """Open stream `n` from its source address and read the response head."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if spec.rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, spec.rcvbuf)
    sock.bind((spec.sources[n % len(spec.sources)], 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", spec.port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=2**22)
    resume = spec.resume_ids[n % len(spec.resume_ids)] if spec.resume_ids else spec.last_id
    request = (
        f"GET {spec.path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        f"Last-Event-ID: {resume}\r\n\r\n"
    )
    writer.write(request.encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return Client(reader, writer, status, base.copy())


async def follow(client: Client, spec: Spec, truth: LogTruth, started: float) -> None:
    """Read until the client has `final_id`, then apply what it read to its map.

    With `spec.defer_check` the bytes are only searched for the final id while the
    clock runs, and parsed afterwards, so the check costs the storm no CPU."""
    marker = b"id: " + spec.final_id.partition(".")[0].encode() + b"."
    if spec.defer_check:
        received = bytearray()
        while marker not in received[-(len(marker) + 65536) :]:
            chunk = await client.reader.read(65536)
            if not chunk:
                raise ConnectionError(f"closed after {len(received)} bytes")
            received += chunk
        client.done_s = time.monotonic() - started
        await asyncio.sleep(0)
        apply_events(client, bytes(received), truth)
        return
    final = spec.final_id.partition(".")[0]
    while client.last.partition(".")[0] != final:
        apply_events(client, await client.reader.readuntil(b"\n\n"), truth)
    client.done_s = time.monotonic() - started


def apply_events(client: Client, stream: bytes, truth: LogTruth) -> None:
    """Apply complete SSE events to the client's map, as the viewer does."""
    for block in stream.split(b"\n\n"):
        event, event_id, data = "message", "", b""
        for line in block.split(b"\n"):
            name, _, value = line.partition(b":")
            value = value.removeprefix(b" ")
            if name == b"event":
                event = value.decode()
            elif name == b"id":
                event_id = value.decode()
            elif name == b"data":
                data += value
        if event == "reset":
            client.resets += 1
            state = truth.at(event_id)
            if state is None:
                raise AssertionError(f"reset to {event_id!r}, which is not in the log")
            client.state = state.copy()
        elif data:
            client.messages += 1
            for seat, status in orjson.loads(data)["seats"]:
                client.state[seat] = status
        if event_id:
            client.last = event_id


async def main(spec: Spec) -> None:
    """Open, (wait,) follow, report."""
    os.nice(10)  # a load generator: the server and the test's probes come first
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    base = np.frombuffer(bytes.fromhex(spec.base_hex), dtype=np.uint8)
    truth = None if spec.wait_go else LogTruth(spec)
    print("CONNECTING", flush=True)
    started = time.monotonic()
    clients = await asyncio.gather(*(connect(spec, n, base) for n in range(spec.clients)))
    answered = sum(c.status == 200 for c in clients)
    if truth is None:
        for client in clients:  # stop reading for real: no bytes leave the kernel's buffers
            client.writer.transport.pause_reading()
        print("READY " + json.dumps({"ok": answered}), flush=True)
        line = await asyncio.to_thread(sys.stdin.readline)
        for client in clients:
            client.writer.transport.resume_reading()
        spec.final_id = json.loads(line)["final_id"]
        started = time.monotonic()
        truth = LogTruth(spec)
    tasks = [asyncio.create_task(follow(c, spec, truth, started)) for c in clients]
    await asyncio.wait(tasks, timeout=spec.deadline_s)
    final = truth.at(spec.final_id)
    assert final is not None, f"final id {spec.final_id} is not in the log"
    for client, task in zip(clients, tasks, strict=True):
        if not task.done():
            task.cancel()
            client.error = f"timed out at {client.last}"
        elif task.exception() is not None:
            client.error = repr(task.exception())
        client.writer.close()
    done = [c for c in clients if c.done_s is not None]
    summary = {
        "clients": len(clients),
        "answered": answered,
        "done": len(done),
        "all_done_s": max((c.done_s or 0.0) for c in done) if done else None,
        "messages": sum(c.messages for c in clients),
        "resets": sum(c.resets for c in clients),
        "clients_reset": sum(c.resets > 0 for c in clients),
        "wrong": sum(bool((c.state != final).any()) for c in clients),
        "errors": sorted({c.error for c in clients if c.error})[:5],
    }
    print("DONE " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    asyncio.run(main(Spec(**json.loads(sys.argv[1]))))


class StreamClients:
    """The child process as a test drives it."""

    def __init__(self, spec: Spec) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ops.streamclients", json.dumps(asdict(spec))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )

    def expect(self, word: str) -> dict[str, Any]:
        """Wait for the child's next line, which must start with `word`; its JSON part."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith(word), f"expected {word}, got {line!r}"
        rest = line[len(word) :].strip()
        return dict(json.loads(rest)) if rest else {}

    def go(self, final_id: str) -> None:
        """Let clients that stopped reading read again, up to `final_id`."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"final_id": final_id}) + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        """Make sure the child is gone."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
