"""A real HTTP receiver of webhooks for the tests: answers as told, records what came.

It runs `http.server` in a thread on a free port. `mode` says how it answers
each request: "ok" (204), "fail" (500) or "slow" (sleep `slow_s`, past the
sender's time limit, then 204). Every request is recorded with its headers, raw
body and the answer it was given, so a test can check signatures afterwards.

`HangingEndpoint` is the receiver that never answers: it accepts connections,
reads what comes and keeps them open until the sender gives up.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lockservice.webhooks_signing import verify


@dataclass(frozen=True, slots=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: str
    mode: str
    at: float

    @property
    def message_id(self) -> str:
        """The webhook-id header."""
        return self.headers.get("webhook-id", "")

    @property
    def payload(self) -> Any:
        """The JSON body."""
        return json.loads(self.body)

    def verifies(self, secret: str) -> bool:
        """Whether the signature is valid for `secret`."""
        return verify(secret, self.headers, self.body)


class Receiver:
    """A webhook receiver on 127.0.0.1 (see the module docstring)."""

    def __init__(self, slow_s: float = 1.0) -> None:
        self.mode = "ok"
        self.slow_s = slow_s
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length).decode()
                mode = receiver.mode
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, headers, body, mode, time.monotonic())
                    )
                if mode == "slow":
                    time.sleep(receiver.slow_s)
                with contextlib.suppress(OSError):
                    self.send_response(500 if mode == "fail" else 204)
                    self.send_header("content-length", "0")
                    self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def on(self, path: str) -> list[Received]:
        """What arrived at `path`, in order."""
        with self._lock:
            return [r for r in self.received if r.path == path]

    def answered(self, path: str, mode: str, message_ids: set[str]) -> dict[str, int]:
        """How many requests at `path` for each of these webhook-ids were answered in `mode`."""
        counts = dict.fromkeys(message_ids, 0)
        for r in self.on(path):
            if r.mode == mode and r.message_id in counts:
                counts[r.message_id] += 1
        return counts


class HangingEndpoint:
    """A TCP server on 127.0.0.1 that accepts every connection and never replies; it counts
    the connections open at once (a sender's requests under way to it)."""

    def __init__(self) -> None:
        self.open = 0
        self.peak = 0
        self.accepted = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        self._listener.setblocking(False)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> HangingEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    conn, _ = sock.accept()
                    conn.setblocking(False)
                    self._selector.register(conn, selectors.EVENT_READ)
                    with self._lock:
                        self.accepted += 1
                        self.open += 1
                        self.peak = max(self.peak, self.open)
                    continue
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # the sender gave up on this request
                    self._selector.unregister(sock)
                    sock.close()
                    with self._lock:
                        self.open -= 1
        for key in list(self._selector.get_map().values()):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            sock.close()
        self._selector.close()
