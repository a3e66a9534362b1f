"""A real HTTP receiver of webhooks for the tests: answers as told, records what came.

It runs `http.server` in a thread on a free port. `mode` says how it answers
each request: "ok" (204), "fail" (500) or "slow" (sleep `slow_s`, past the
sender's time limit, then 204). Every request is recorded with its headers, raw
body and the answer it was given, so a test can check signatures afterwards.
"""

from __future__ import annotations

import contextlib
import json
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
