"""The on-sale buyers' live stream: a light SSE client in its own greenlet, reporting to locust."""

from __future__ import annotations

import json
import socket
import time
from collections import deque
from urllib.parse import urlsplit

import gevent
from locust.env import Environment

# Messages kept per stream to find a hold whose message beat the hold's own reply.
RECENT_MESSAGES = 64
STREAM_CONNECT_TIMEOUT_S = 10.0
# How long a leaving buyer waits for its own hold to arrive on the stream.
STREAM_GRACE_S = 2.0
MAX_STREAM_BUFFER = 1 << 20


def message_seats(message: bytes) -> set[int]:
    """Seat indices a stream message names (`"seats": [[index, status], ...]`)."""
    data = b"".join(line[5:].lstrip() for line in message.split(b"\n") if line.startswith(b"data:"))
    try:
        payload = json.loads(data) if data else None
    except ValueError:
        return set()
    seats = payload.get("seats") if isinstance(payload, dict) else None
    if not isinstance(seats, list):
        return set()
    return {
        item[0] for item in seats if isinstance(item, list) and item and isinstance(item[0], int)
    }


class LiveStream:
    """A minimal SSE client: HTTP/1.0 over a socket, in a greenlet, reporting to locust.

    It reports the time to the response headers as request "SSE open", and, for
    the hold the buyer makes, the time from the hold's reply until a stream
    message names one of its seats as "SSE own hold" (0 if it came first).
    Messages are only framed and kept, not parsed, unless a hold is awaited: one
    locust process reads the streams of every buyer, browsers each read their own.
    """

    def __init__(
        self, environment: Environment, host: str, event_id: int, headers: dict[str, str]
    ) -> None:
        self._environment = environment
        parts = urlsplit(host)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._path = f"/events/{event_id}/stream"
        self._headers = headers
        self._recent: deque[tuple[float, bytes]] = deque(maxlen=RECENT_MESSAGES)
        self._awaited: set[int] = set()
        self._replied_at = 0.0
        self._greenlet: gevent.Greenlet | None = None
        self.messages = 0

    def _fire(self, name: str, started: float, exc: Exception | None = None, size: int = 0) -> None:
        self._environment.events.request.fire(  # type: ignore[no-untyped-call]
            request_type="SSE",
            name=name,
            response_time=max(0.0, (time.perf_counter() - started) * 1000),
            response_length=size,
            exception=exc,
            context={},
        )

    def start(self) -> None:
        """Connect and start reading in the background."""
        self._greenlet = gevent.spawn(self._run)

    def watch(self, seats: list[int], asked_at: float) -> None:
        """Time the arrival of the message naming these seats, held by a request sent at
        `asked_at` whose reply has just come in."""
        wanted = set(seats)
        for arrived, message in self._recent:
            if arrived >= asked_at and wanted & message_seats(message):
                self._fire("own hold", time.perf_counter())
                return
        self._awaited, self._replied_at = wanted, time.perf_counter()

    def close(self) -> None:
        """Give an awaited hold a short grace to arrive, then hang up like a leaving tab."""
        deadline = time.perf_counter() + STREAM_GRACE_S
        while self._awaited and time.perf_counter() < deadline and self._greenlet is not None:
            gevent.sleep(0.05)
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=2)
        if self._awaited:
            self._fire("own hold", self._replied_at, RuntimeError("own hold not on the stream"))
            self._awaited = set()

    def _run(self) -> None:
        started = time.perf_counter()
        lines = [
            f"GET {self._path} HTTP/1.0",
            f"Host: {self._address[0]}",
            "Accept: text/event-stream",
        ]
        lines += [f"{k}: {v}" for k, v in self._headers.items()]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        try:
            sock = socket.create_connection(self._address, timeout=STREAM_CONNECT_TIMEOUT_S)
        except OSError as exc:
            self._fire("open", started, exc)
            return
        try:
            sock.sendall(request)
            buffer = b""
            while b"\r\n\r\n" not in buffer and len(buffer) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            if " 200 " not in f"{status_line} ":
                self._fire("open", started, RuntimeError(f"stream answered {status_line!r}"))
                return
            self._fire("open", started, size=len(head))
            sock.settimeout(None)  # close() ends the read by killing this greenlet
            self._read(sock, buffer)
        except OSError as exc:
            self._fire("read", started, exc)
        finally:
            sock.close()

    def _read(self, sock: socket.socket, buffer: bytes) -> None:
        while True:
            while b"\n\n" in buffer:
                message, _, buffer = buffer.partition(b"\n\n")
                self._handle(message)
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("server closed the stream")
            buffer += chunk
            if len(buffer) > MAX_STREAM_BUFFER:
                raise OSError("stream message larger than 1 MiB")

    def _handle(self, message: bytes) -> None:
        if message.startswith(b":"):  # heartbeat comment
            return
        self.messages += 1
        if self._awaited and self._awaited & message_seats(message):
            self._awaited = set()
            self._fire("own hold", self._replied_at)
        else:
            self._recent.append((time.perf_counter(), message))
