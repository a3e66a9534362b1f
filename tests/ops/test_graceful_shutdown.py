"""SIGTERM while streams are open: every stream ends with a retry hint, the server exits soon.

Run with one uvicorn worker and with two.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import time

import pytest

from seatmap.settings import Settings
from tests.ops.load import LONG_HOLDS, fault_venue
from tests.ops.servers import AppFactory, provision_event

pytestmark = pytest.mark.fault

OPEN_STREAMS = 50
# uvicorn's --timeout-graceful-shutdown in AppProcess is 5 s; streams must not use it up.
MAX_SHUTDOWN_S = 4.0


def open_stream(port: int, path: str) -> socket.socket:
    """An SSE stream over HTTP/1.0 (no chunking: what arrives is the event text)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    assert head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200"), head[:80]
    return sock


def read_to_end(sock: socket.socket, timeout_s: float) -> bytes:
    """Everything the server sends until it closes the stream (bounded in time)."""
    sock.settimeout(timeout_s)
    received = b""
    with contextlib.suppress(OSError):
        while len(received) < 1 << 20:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk
    raise AssertionError(f"stream still open after {timeout_s} s: {received[-200:]!r}")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_ends_streams_with_a_retry_hint_and_exits_promptly(
    ops_settings: Settings, start_app: AppFactory, workers: int
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Shutdown")
    app = start_app(workers=workers)
    streams = [open_stream(app.port, f"/events/{event_id}/stream") for _ in range(OPEN_STREAMS)]
    assert app.proc is not None
    try:
        started = time.monotonic()
        app.proc.send_signal(signal.SIGTERM)
        tails = [read_to_end(sock, MAX_SHUTDOWN_S) for sock in streams]
        returncode = app.proc.wait(timeout=15)
        elapsed = time.monotonic() - started
    finally:
        for sock in streams:
            sock.close()
    assert all(b"retry:" in tail for tail in tails), "a stream ended without a retry hint"
    # uvicorn re-raises the signal after its graceful shutdown, so -SIGTERM is a clean exit.
    assert returncode in (0, -signal.SIGTERM)
    assert elapsed < MAX_SHUTDOWN_S, f"shutdown took {elapsed:.1f} s"
    assert app.unhandled_errors() == [], app.error_summary()
