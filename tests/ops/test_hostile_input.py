"""Huge and hostile requests: each gets a quick 4xx, and the server stays small and up.

Requests are sent as raw bytes, exactly as written, so that no client library
tidies them first: 10 MB bodies with and without Content-Length, JSON nested
200,000 deep, non-UTF-8 bytes where text is expected, out-of-range tile
coordinates and path tricks in event ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import httpx
import pytest

from seatmap.settings import Settings
from tests.ops.api import API_KEY, open_api, seat_pairs
from tests.ops.load import LONG_HOLDS, fault_venue
from tests.ops.servers import AppFactory, provision_event

pytestmark = pytest.mark.fault

MAX_ANSWER_S = 2.0
MAX_GROWTH_MB = 50.0
TEN_MB = 10 * 1024 * 1024


def raw_request(port: int, head: bytes, body: bytes = b"", chunked: bool = False) -> int:
    """Send bytes exactly as given (no client-side normalising); the status code answered.

    The body is streamed in 64 KiB pieces; a server that answers early and closes
    is fine, the answer is read anyway. 0 means no status line came back.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=MAX_ANSWER_S * 2) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(head)
            for i in range(0, len(body), 65536):
                piece = body[i : i + 65536]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        answer = b""
        with contextlib.suppress(OSError):
            while b"\r\n" not in answer and len(answer) < 4096:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


TILE_TRICKS = (
    "-1/0/0.png", "0/-1/0.png", "0/0/-1.png", "99/0/0.png", "2/99999/0.png",
    "2/0/99999999999999999999999.png", "3/1.5/2.png", "abc/0/0.png", "2147483648/0/0.png",
    "1/0/0@3x.png", "0/0/0.gif", "0/0/0.png/..", "%2e%2e/%2e%2e/0.png", "0/0/0.png%00",
)  # fmt: skip
EVENT_TRICKS = (
    "../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%00", "-1", "0", "1e3", "0x1",
    "99999999999999999999999", "9223372036854775808", "\u00e9",
)  # fmt: skip
EVENT_TAILS = ("tiles.json", "stream", "tiles/0/0/0.png", "stats", "holds")


def _post(path: str, body: bytes, headers: str = "", chunked: bool = False) -> bytes:
    """A raw POST head with a JSON content type and the given extra header lines."""
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{length}\r\n{headers}Connection: close\r\n\r\n"
    ).encode("latin-1")


def _get(path: bytes, headers: bytes = b"") -> bytes:
    """A raw GET head; the path is sent byte for byte."""
    return (
        b"GET "
        + path
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + headers
        + b"Connection: close\r\n\r\n"
    )


def hostile_requests(
    event_id: int, token: str, hold_token: str
) -> list[tuple[str, bytes, bytes, bool]]:
    """(name, request head, body, chunked) of every hostile request."""
    auth = f"Authorization: Bearer {token}\r\n"
    holds = f"/events/{event_id}/holds"
    big = b'{"seats": ["' + b"x" * TEN_MB + b'"]}'
    ids = b",".join(b'"s1-A-%d"' % (i % 20 + 1) for i in range(100_000))
    numbers = b",".join(b"%d" % i for i in range(100_000))
    fewer = b",".join(b"%d" % i for i in range(10_000))  # 48 kB: under the body limit
    deep = b'{"seats": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    deeper = b"[" * 200_000 + b"]" * 200_000
    bodies: list[tuple[str, str, bytes, str, bool]] = [
        ("10 MB hold body", holds, big, auth, False),
        ("10 MB hold body, chunked", holds, big, auth, True),
        ("10 MB session body", "/sessions", big, "", False),
        ("100,000 seat ids in one hold", holds, b'{"seats": [' + ids + b"]}", auth, False),
        ("100,000 seat numbers in one hold", holds, b'{"seats": [' + numbers + b"]}", auth, False),
        ("10,000 seat numbers in one hold", holds, b'{"seats": [' + fewer + b"]}", auth, False),
        ("best-available of 100,000", f"/events/{event_id}/best-available",
         b'{"count": 100000}', auth, False),
        ("JSON nested 30,000 deep", holds, deep, auth, False),
        ("JSON nested 200,000 deep, chunked", holds, deeper, auth, True),
        ("non-UTF-8 body", holds, b'{"seats": ["\xff\xfe\xfd"]}', auth, False),
        ("not JSON", holds, b"\x00\x01\x02garbage", auth, False),
        ("seats not a list", holds, b'{"seats": "s1-A-1"}', auth, False),
        ("number out of range", holds, b'{"seats": [1e999]}', auth, False),
        ("non-UTF-8 buyer token", holds, b'{"seats": ["s1-A-1"]}',
         "Authorization: Bearer \xff\xfe\xfd\r\n", False),
        ("20 kB Idempotency-Key", f"{holds}/{hold_token}/confirm", b"{}",
         f"X-API-Key: {API_KEY}\r\nIdempotency-Key: {'k' * 20_000}\r\n", False),
    ]  # fmt: skip
    cases = [
        (name, _post(path, body, headers, chunked), body, chunked)
        for name, path, body, headers, chunked in bodies
    ]
    tiles = f"/events/{event_id}/tiles"
    cases += [(f"tile {t}", _get(f"{tiles}/{t}".encode()), b"", False) for t in TILE_TRICKS]
    for event in (*EVENT_TRICKS, f"%20{event_id}", f"{event_id}%00", f"{event_id}/../{event_id}"):
        for tail in EVENT_TAILS:
            path = f"/events/{event}/{tail}".encode()
            cases.append((f"event {event!r} {tail}", _get(path), b"", False))
    cases.append(("raw non-ASCII path", _get(b"/events/\xff\xfe/tiles.json"), b"", False))
    huge_map = f"/events/{event_id}/map.png?width=100000&height=100000".encode()
    cases.append(("map of 100,000 px square", _get(huge_map), b"", False))
    return cases


@pytest.mark.timeout(240)
def test_hostile_input_gets_quick_4xx_and_little_memory(
    ops_settings: Settings, start_app: AppFactory
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Hostile input")
    app = start_app()

    async def prepare() -> tuple[str, str]:
        async with open_api(app.url, event_id) as api:
            token, _ = await api.session()
            return token, await api.held(token, seat_pairs(venue)[0])

    token, hold_token = asyncio.run(prepare())
    before = app.rss_mb()
    wrong: list[str] = []
    for name, head, body, chunked in hostile_requests(event_id, token, hold_token):
        started = time.monotonic()
        status = raw_request(app.port, head, body, chunked)
        elapsed = time.monotonic() - started
        if not 400 <= status < 500 or elapsed > MAX_ANSWER_S:
            wrong.append(f"{name}: {status} in {elapsed:.2f} s")
    growth = app.rss_mb() - before
    assert wrong == [], "not 4xx in time:\n" + "\n".join(wrong) + "\n" + app.error_summary()
    assert growth < MAX_GROWTH_MB, f"memory grew {growth:.0f} MiB"
    assert httpx.get(f"{app.url}/healthz", timeout=5).status_code == 200
    assert app.unhandled_errors() == [], app.error_summary()


def hostile_parameters(event_id: int) -> list[tuple[str, str]]:
    """(path, parameter the 400 must name) of Unicode digits, huge ids and contradictions."""
    e = event_id
    return [
        (f"/events/{e}/tiles/%C2%B2/0/0.png", "z"),
        (f"/events/{e}/tiles/0/%C2%B2/0.png", "x"),
        (f"/events/{e}/tiles/0/0/%C2%B2.png", "y"),
        ("/events/%C2%B2/tiles.json", "event_id"),
        ("/events/%D9%A3/tiles.json", "event_id"),  # Arabic-Indic three
        (f"/events/{e}/map.png?width=%C2%B2", "width"),
        (f"/events/{e}/map.png?width=1e3", "width"),
        (f"/events/{e}/map.webp?format=png", "format"),
        (f"/events/{e}/map.png?format=webp", "format"),
        (f"/events/{e}/seats/%C2%B2", "seat_index"),
        (f"/events/{e}/seats/at?x=%C2%B2&y=1", "x"),
        (f"/events/{e}/seats/at?x=1&y=nan", "y"),
        ("/viewer/?event=%C2%B2", "event"),
        ("/viewer/?event=-5493", "event"),
        ("/embed/99999999999999999999999", "event_id"),
        ("/events/99999999999999999999/sections.json", "event_id"),
        (f"/events/{e}/places.json?seats=%C2%B2", "seats"),
        (f"/events/{e}/holds?limit=%C2%B2", "limit"),
        ("/events/99999999999999999999/stats", "event_id"),
    ]


@pytest.mark.timeout(120)
def test_hostile_parameters_are_400s_naming_the_parameter(
    ops_settings: Settings, start_app: AppFactory
) -> None:
    event_id = provision_event(ops_settings, fault_venue(), LONG_HOLDS, "Hostile parameters")
    app = start_app()
    wrong: list[str] = []
    with httpx.Client(
        base_url=app.url, timeout=MAX_ANSWER_S * 5, headers={"X-API-Key": API_KEY}
    ) as client:
        for path, field in hostile_parameters(event_id):
            reply = client.get(path)
            named = reply.headers.get("content-type", "").startswith("application/json") and (
                reply.json().get("field") == field
            )
            if reply.status_code != 400 or not named:
                wrong.append(f"{path}: {reply.status_code} {reply.text[:200]}")
        # Paths nothing serves any more, or ids no route accepts, are plain 404s.
        for path in (
            "/viewer/api/events/99999999999999999999/sections.json",
            "/events/99999999999999999999/stream",
        ):
            reply = client.get(path)
            if reply.status_code != 404:
                wrong.append(f"{path}: {reply.status_code} {reply.text[:200]}")
        for method, path, allowed in (
            ("POST", f"/events/{event_id}/tiles/0/0/0.png", "GET, HEAD"),
            ("PUT", f"/events/{event_id}/holds", "GET, HEAD, POST"),
            ("DELETE", "/events", "GET, HEAD, POST"),
        ):
            reply = client.request(method, path)
            if reply.status_code != 405 or reply.headers.get("allow") != allowed:
                wrong.append(
                    f"{method} {path}: {reply.status_code} Allow "
                    f"{reply.headers.get('allow')!r}, expected {allowed!r}"
                )
    assert wrong == [], "\n".join(wrong) + "\n" + app.error_summary()
    assert app.unhandled_errors() == [], app.error_summary()
