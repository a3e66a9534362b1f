"""Slow-header clients are closed, idle keep-alives end, and a full process answers 503.

Each test runs `seatmap serve` as users run it, with the server settings of the
README, and drives it with raw sockets: a client that sends a request line and
then one header byte every few seconds must not keep its descriptor past the
header deadline, while ordinary clients go on being served.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, new_database
from tests.install.served import ServedApp

pytestmark = [pytest.mark.fault, pytest.mark.slow]

HEADER_TIMEOUT_S = 2.0
SLOW_CLIENTS = 1500


def _serve(tmp_path: Path, **settings: str) -> Iterator[ServedApp]:
    with new_database() as dsn:
        env = {
            "SEATMAP_DATABASE_URL": dsn,
            "SEATMAP_REDIS_URL": REDIS_URL,
            "SEATMAP_REDIS_PREFIX": f"limits-{uuid.uuid4().hex[:8]}:",
            "SEATMAP_DATA_DIR": str(tmp_path / "data"),
            "SEATMAP_LOG_JSON": "0",
            **settings,
        }
        command = [sys.executable, "-m", "seatmap_app.cli", "serve"]
        app = ServedApp(command, env, cwd=tmp_path, log_path=tmp_path / "serve.log").start()
        try:
            yield app
        finally:
            app.stop()


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[ServedApp]:
    """A server with a 2 s header deadline and a 1 s keep-alive."""
    yield from _serve(
        tmp_path,
        SEATMAP_HEADER_TIMEOUT_S=str(HEADER_TIMEOUT_S),
        SEATMAP_KEEP_ALIVE_S="1",
    )


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setblocking(False)
    return sock


def _closed_by_server(sock: socket.socket) -> tuple[bool, bytes]:
    """Whether the server has closed this socket, and what it sent before closing."""
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return True, received
        except BlockingIOError:
            return False, received
        if not chunk:
            return True, received
        received += chunk


def test_slow_header_clients_are_closed_while_others_are_served(guarded: ServedApp) -> None:
    slow = [_connect(guarded.port) for _ in range(SLOW_CLIENTS)]
    for sock in slow:
        sock.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    started = time.monotonic()
    served = 0
    open_socks = set(range(SLOW_CLIENTS))
    replies: dict[int, bytes] = {}
    with httpx.Client(base_url=guarded.url, timeout=5) as client:
        while open_socks and time.monotonic() - started < HEADER_TIMEOUT_S + 15:
            for i in list(open_socks):
                closed, data = _closed_by_server(slow[i])
                replies[i] = replies.get(i, b"") + data
                if closed:
                    open_socks.discard(i)
                else:
                    try:
                        slow[i].send(b"a")  # one more header byte, as a slow client does
                    except OSError:
                        open_socks.discard(i)
            assert client.get("/healthz").status_code == 200
            served += 1
            time.sleep(0.3)
    elapsed = time.monotonic() - started
    for sock in slow:
        sock.close()
    assert not open_socks, f"{len(open_socks)} slow clients still open after {elapsed:.1f} s"
    assert served >= 3
    timed_out = [r for r in replies.values() if r.startswith(b"HTTP/1.1 408")]
    assert len(timed_out) >= SLOW_CLIENTS * 0.9, f"only {len(timed_out)} got a 408"
    body = json.loads(timed_out[0].split(b"\r\n\r\n", 1)[1])
    assert body["error"] == "request_timeout"


def test_connection_that_sends_nothing_is_closed(guarded: ServedApp) -> None:
    sock = _connect(guarded.port)
    deadline = time.monotonic() + HEADER_TIMEOUT_S + 5
    closed = False
    while not closed and time.monotonic() < deadline:
        closed, _ = _closed_by_server(sock)
        time.sleep(0.1)
    sock.close()
    assert closed


def test_idle_keep_alive_connection_ends_after_the_keep_alive_time(guarded: ServedApp) -> None:
    sock = _connect(guarded.port)
    sock.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    started = time.monotonic()
    closed, data = False, b""
    while not closed and time.monotonic() - started < 6:
        closed, chunk = _closed_by_server(sock)
        data += chunk
        time.sleep(0.05)
    sock.close()
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    assert closed and time.monotonic() - started < 4


def test_connections_past_the_limit_get_503_with_retry_after(tmp_path: Path) -> None:
    limit = 60
    for app in _serve(tmp_path, SEATMAP_MAX_CONNECTIONS=str(limit),
                      SEATMAP_HEADER_TIMEOUT_S="60"):
        held = [_connect(app.port) for _ in range(limit)]
        time.sleep(0.5)
        extra = socket.create_connection(("127.0.0.1", app.port), timeout=5)
        reply = b""
        while chunk := extra.recv(65536):
            reply += chunk
        extra.close()
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503"), reply[:200]
        assert b"retry-after: " in head.lower()
        assert json.loads(body)["error"] == "unavailable"
        for sock in held[:10]:
            sock.close()
        time.sleep(0.5)
        with httpx.Client(base_url=app.url, timeout=5) as client:
            assert client.get("/healthz").status_code == 200
        for sock in held[10:]:
            sock.close()
