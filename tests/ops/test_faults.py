"""Faults an on-sale must survive, against private backends this test run can stop.

Each test starts the app as a subprocess on a fresh event, breaks something
real (stops Redis, restarts PostgreSQL, abandons a thousand streams, sends
hostile requests) and checks what buyers and the box office saw, what
PostgreSQL and Redis hold afterwards, and what the server process cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest

from seatmap.events import EventRules
from seatmap.livekeys import status_key
from seatmap.model import Venue
from seatmap.settings import Settings
from seatmap.status import SeatStatus
from tests.ops.conftest import (
    API_KEY,
    REDIS_PREFIX,
    Api,
    AppFactory,
    AppProcess,
    PrivatePostgres,
    PrivateRedis,
    provision_event,
    seat_index,
    seat_pairs,
    wait_until,
)
from tests.venues import grid_venue

pytestmark = pytest.mark.fault

LONG_HOLDS = EventRules(no_orphans=False, hold_ttl_s=900, max_hold_s=1800)


def fault_venue() -> Venue:
    """800 seats: 4 sections of 10 rows of 20, an aisle mid-row."""
    return grid_venue(sections=4, rows=10, seats_per_row=20, aisle_after=10, name="Fault Hall")


@dataclass
class Observed:
    """Every answer the clients got, by phase and request kind."""

    answers: list[tuple[str, str, int, str | None]] = field(default_factory=list)

    def record(self, phase: str, kind: str, response: httpx.Response) -> None:
        """Remember (phase, kind, status, Retry-After) of one response."""
        self.answers.append(
            (phase, kind, response.status_code, response.headers.get("retry-after"))
        )

    def statuses(self, phase: str, kind: str) -> list[int]:
        """Statuses of one kind of request in one phase."""
        return [s for p, k, s, _ in self.answers if p == phase and k == kind]

    def server_errors(self) -> list[tuple[str, str, int, str | None]]:
        """5xx answers other than 503 with a Retry-After (the readiness probe aside)."""
        return [
            a
            for a in self.answers
            if a[2] >= 500 and not (a[2] == 503 and a[3]) and a[1] != "readyz"
        ]


def status_bytes(redis_server: PrivateRedis, event_id: int) -> bytes:
    """The event's status bytes in the private Redis (b"" when missing)."""
    with redis_server.client() as client:
        return bytes(client.get(status_key(REDIS_PREFIX, event_id)) or b"")


def sold_in_postgres(dsn: str, event_id: int) -> set[int]:
    """Seat indices PostgreSQL has sold for the event."""

    async def read() -> set[int]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch("SELECT seat_index FROM sales WHERE event_id = $1", event_id)
        finally:
            await conn.close()
        return {int(r[0]) for r in rows}

    return asyncio.run(read())


# -- Redis stopped in the middle of the load ------------------------------------------------

# Each buyer buys a pair at most every PACE_S: the 360 pairs of the hall outlast the run.
PACE_S = 0.3
RECOVERY_S = 30


class RedisOutage:
    """Buyers who hold and buy, and a map that keeps loading, while Redis dies and returns."""

    def __init__(self, app: AppProcess, event_id: int, venue: Venue, redis: PrivateRedis) -> None:
        self.app = app
        self.event_id = event_id
        self.venue = venue
        self.redis = redis
        self.phase = "before"
        self.observed = Observed()
        self.sold: dict[str, list[str]] = {}  # idempotency key -> seat ids, acknowledged
        self.pairs = seat_pairs(venue)
        self.stop = asyncio.Event()

    async def buyer(self, api: Api, pairs: list[list[str]]) -> None:
        """Buy pair after pair at a steady pace until told to stop; retry a pair on 503."""
        for pair in pairs:
            while not self.stop.is_set() and not await self.buy(api, pair):
                await asyncio.sleep(0.2)
            if self.stop.is_set():
                return
            await asyncio.sleep(PACE_S)

    async def buy(self, api: Api, pair: list[str]) -> bool:
        """Session, hold, confirm. False if a backend was away (try again), else True."""
        response = await api.http.post("/sessions", json={})
        self.observed.record(self.phase, "session", response)
        if response.status_code != 201:
            return response.status_code != 503
        token = response.json()["token"]
        response = await api.hold(token, pair)
        self.observed.record(self.phase, "hold", response)
        if response.status_code != 201:
            return response.status_code != 503
        await self.confirm(api, response.json()["hold_token"], pair)
        return True

    async def confirm(self, api: Api, hold_token: str, pair: list[str]) -> None:
        """Confirm with one key, retried on 503 for up to 20 s like a box office would.

        A hold that Redis lost meanwhile answers 404/410: no sale, and nothing to retry.
        """
        key = str(uuid.uuid4())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            response = await api.confirm(hold_token, key)
            self.observed.record(self.phase, "confirm", response)
            if response.status_code in (200, 201):
                self.sold[key] = pair
                return
            if response.status_code != 503:
                return
            await asyncio.sleep(0.3)

    async def map_viewer(self, http: httpx.AsyncClient, paths: list[str]) -> None:
        """Keep loading the same tiles, as a page full of map viewers would."""
        while not self.stop.is_set():
            for path in paths:
                self.observed.record(self.phase, "tile", await http.get(path))
            await asyncio.sleep(0.05)

    async def run(self) -> None:
        """Load for 3 s, stop Redis for 4 s, start it, wait for a hold to work, load 2 s more."""
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=self.app.url, timeout=15, limits=limits) as http:
            api = Api(http, self.event_id)
            tiles = [p for p in await api.tile_paths() if (await http.get(p)).status_code == 200]
            assert tiles, "the event serves no tiles"
            workers = 8
            shares = [self.pairs[i::workers] for i in range(workers)]
            tasks = [asyncio.create_task(self.buyer(api, share)) for share in shares]
            tasks.append(asyncio.create_task(self.map_viewer(http, tiles)))
            await asyncio.sleep(3)
            assert self.sold, "no sale went through before the outage"
            self.phase = "outage"
            await asyncio.to_thread(self.redis.stop)
            await asyncio.sleep(1)
            self.observed.record("outage", "healthz", await http.get("/healthz"))
            self.observed.record("outage", "readyz", await http.get("/readyz"))
            await asyncio.sleep(3)
            await asyncio.to_thread(self.redis.start)
            self.phase = "recovery"
            deadline = time.monotonic() + RECOVERY_S
            while 201 not in self.observed.statuses("recovery", "hold"):
                assert time.monotonic() < deadline, f"no hold {RECOVERY_S} s after Redis returned"
                await asyncio.sleep(0.1)
            await asyncio.sleep(2)
            self.stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)


@pytest.mark.timeout(240)
def test_redis_outage_answers_503_serves_tiles_and_loses_no_sale(
    ops_settings: Settings,
    private_redis: PrivateRedis,
    private_postgres: PrivatePostgres,
    start_app: AppFactory,
    backends_restored: None,
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Redis outage")
    app = start_app()
    scenario = RedisOutage(app, event_id, venue, private_redis)
    asyncio.run(scenario.run())
    seen = scenario.observed

    assert seen.server_errors() == [], f"not 503 + Retry-After:\n{app.error_summary()}"
    outage_writes = [
        s for kind in ("session", "hold", "confirm") for s in seen.statuses("outage", kind)
    ]
    assert 503 in outage_writes, f"the outage was not observed: {outage_writes}"
    tiles_in_outage = seen.statuses("outage", "tile")
    assert tiles_in_outage and set(tiles_in_outage) <= {200, 304}, tiles_in_outage
    assert seen.statuses("outage", "healthz") == [200]
    assert seen.statuses("outage", "readyz") == [503]

    # Recovered without a restart: same process, and sales work again.
    assert app.proc is not None and app.proc.poll() is None
    assert 201 in seen.statuses("recovery", "hold"), seen.statuses("recovery", "hold")

    # Nothing acknowledged is lost: PostgreSQL has it, and the reconciler put it back in Redis.
    acknowledged = {seat_index(venue, s) for pair in scenario.sold.values() for s in pair}
    assert acknowledged <= sold_in_postgres(private_postgres.dsn, event_id)

    def restored() -> bool:
        status = status_bytes(private_redis, event_id)
        return bool(status) and all(status[i] == SeatStatus.SOLD for i in acknowledged)

    wait_until(restored, 15, "the reconciler to mark every sold seat sold in Redis again")

    async def resell() -> list[int]:
        async with httpx.AsyncClient(base_url=app.url, timeout=10) as http:
            api = Api(http, event_id)
            token, _ = await api.session()
            pairs = list(scenario.sold.values())[:5]
            return [(await api.hold(token, pair)).status_code for pair in pairs]

    assert set(asyncio.run(resell())) == {409}, "a sold seat could be held again"
    assert app.unhandled_errors() == [], app.error_summary()


# -- PostgreSQL restarted during confirms ---------------------------------------------------

CONFIRM_RETRY_S = 0.05


async def confirm_until_done(
    api: Api, hold_token: str, key: str, start_after_s: float, observed: Observed
) -> httpx.Response | None:
    """Confirm one hold with one Idempotency-Key, retrying 503s for up to 45 s."""
    await asyncio.sleep(start_after_s)
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        try:
            response = await api.confirm(hold_token, key)
        except httpx.TransportError:
            await asyncio.sleep(0.2)
            continue
        observed.record("restart", "confirm", response)
        if response.status_code != 503:
            return response
        # An impatient box office: retries land while PostgreSQL shuts down and starts up.
        await asyncio.sleep(CONFIRM_RETRY_S)
    return None


async def confirms_across_restart(
    app: AppProcess, event_id: int, venue: Venue, postgres: PrivatePostgres, count: int
) -> tuple[Observed, dict[str, tuple[str, list[str], httpx.Response | None]]]:
    """Hold `count` pairs, then confirm them staggered over 4 s while PostgreSQL restarts."""
    observed = Observed()
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
        api = Api(http, event_id)
        holds: dict[str, tuple[str, list[str]]] = {}
        for pair in seat_pairs(venue)[:count]:
            token, _ = await api.session()
            response = await api.hold(token, pair)
            assert response.status_code == 201, response.text
            holds[str(uuid.uuid4())] = (response.json()["hold_token"], pair)

        async def restart() -> None:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(postgres.stop)
            await asyncio.sleep(3.0)
            await asyncio.to_thread(postgres.start)

        step = 4.0 / count
        confirms = [
            confirm_until_done(api, hold_token, key, i * step, observed)
            for i, (key, (hold_token, _)) in enumerate(holds.items())
        ]
        results = await asyncio.gather(restart(), *confirms)
        return observed, {
            key: (hold_token, pair, result)
            for (key, (hold_token, pair)), result in zip(holds.items(), results[1:], strict=True)
        }


@pytest.mark.timeout(240)
def test_postgres_restart_during_confirms_gives_one_order_per_key(
    ops_settings: Settings,
    private_redis: PrivateRedis,
    private_postgres: PrivatePostgres,
    start_app: AppFactory,
    backends_restored: None,
) -> None:
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "PostgreSQL restart")
    app = start_app()
    count = 40
    observed, outcomes = asyncio.run(
        confirms_across_restart(app, event_id, venue, private_postgres, count)
    )

    assert observed.server_errors() == [], f"not 503 + Retry-After:\n{app.error_summary()}"
    assert 503 in observed.statuses("restart", "confirm"), "no confirm met the restart"
    unfinished = {k: r.status_code if r else None for k, (_, _, r) in outcomes.items()
                  if r is None or r.status_code not in (200, 201)}  # fmt: skip
    assert unfinished == {}, "confirms that never succeeded"

    async def replay_and_read() -> tuple[dict[str, Any], list[asyncpg.Record]]:
        async with httpx.AsyncClient(base_url=app.url, timeout=10) as http:
            api = Api(http, event_id)
            again = {key: (await api.confirm(hold, key)) for key, (hold, _, _) in outcomes.items()}
        conn = await asyncpg.connect(private_postgres.dsn)
        try:
            rows = await conn.fetch(
                "SELECT o.idempotency_key, o.id, array_agg(s.seat_index ORDER BY s.seat_index) "
                "AS seats FROM orders o JOIN sales s ON s.order_id = o.id "
                "WHERE o.event_id = $1 GROUP BY o.id",
                event_id,
            )
        finally:
            await conn.close()
        return {k: (r.status_code, r.json()) for k, r in again.items()}, rows

    replays, orders = asyncio.run(replay_and_read())
    by_key = {r["idempotency_key"]: r for r in orders}
    assert len(orders) == count == len(by_key), "exactly one order per Idempotency-Key"
    for key, (_, pair, first) in outcomes.items():
        expected_seats = sorted(seat_index(venue, s) for s in pair)
        assert list(by_key[key]["seats"]) == expected_seats
        assert first is not None
        status, body = replays[key]
        assert status in (200, 201), body
        assert order_id(body) == order_id(first.json()) == by_key[key]["id"]
    all_seats = [s for r in orders for s in r["seats"]]
    assert len(all_seats) == len(set(all_seats)) == 2 * count

    def all_sold_in_redis() -> bool:
        status = status_bytes(private_redis, event_id)
        return all(status[s] == SeatStatus.SOLD for s in all_seats)

    wait_until(all_sold_in_redis, 15, "every sold seat to be sold in Redis")
    assert app.unhandled_errors() == [], app.error_summary()


def order_id(body: dict[str, Any]) -> Any:
    """The order id in a confirm reply, whatever the field is called."""
    return body.get("order_id", body.get("id"))


# -- 1,000 SSE clients that vanish -------------------------------------------------------------

VANISHING_CLIENTS = 1000
# Measured: a crowd of 1,000 streams costs ~20 MiB at its peak; repeats add < 0.5 MiB.
RSS_SLACK_MB = 4.0
# The server's Redis and PostgreSQL pools may open a connection or two meanwhile.
FD_SLACK = 5
# A child process that opens the streams, reports, and then is killed: its sockets are
# never closed by the application (half of them reset, half just dropped by the kernel).
STREAM_OPENER = textwrap.dedent(
    """
    import socket, struct, sys, time
    port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    request = f"GET {path} HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nAccept: text/event-stream\\r\\n\\r\\n"
    socks = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.sendall(request.encode())
        socks.append(s)
    ok = 0
    for s in socks:
        head = b""
        while b"\\r\\n\\r\\n" not in head and len(head) < 65536:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        ok += head.startswith(b"HTTP/1.1 200")
    print(f"READY {ok}", flush=True)
    time.sleep(600)
    """
)


def vanish_round(app: AppProcess, path: str) -> float:
    """Open VANISHING_CLIENTS streams from a child process, then kill it; the peak RSS."""
    opener = subprocess.Popen(
        [sys.executable, "-c", STREAM_OPENER, str(app.port), path, str(VANISHING_CLIENTS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert opener.stdout is not None
        line = opener.stdout.readline()
        assert line.strip() == f"READY {VANISHING_CLIENTS}", line
        assert app.metric("seatmap_sse_connections") >= VANISHING_CLIENTS
        return app.rss_mb()
    finally:
        opener.kill()
        opener.wait(timeout=10)


@pytest.mark.timeout(300)
def test_thousand_vanishing_stream_clients_leave_no_trace(
    ops_settings: Settings, start_app: AppFactory
) -> None:
    """Streams, sockets and memory return to their baseline within 30 s, round after round.

    Python keeps freed memory for reuse rather than handing it back to the OS, so
    the memory baseline is the resident size once one crowd has come and gone;
    a second and third crowd must not raise it (a leak would, by ~20 MiB a crowd).
    """
    venue = fault_venue()
    event_id = provision_event(ops_settings, venue, LONG_HOLDS, "Vanishing streams")
    app = start_app()
    path = f"/events/{event_id}/stream"
    with httpx.stream("GET", f"{app.url}{path}", timeout=10) as warm:
        assert warm.status_code == 200
    time.sleep(1)
    base_fds = app.open_fds()
    base_streams = app.metric("seatmap_sse_connections")
    rss_after: list[float] = []
    for round_no in range(3):
        vanish_round(app, path)
        vanished_at = time.monotonic()
        asyncio.run(make_changes(app, event_id, venue, round_no))

        def drained() -> bool:
            return (
                app.metric("seatmap_sse_connections") <= base_streams
                and app.open_fds() <= base_fds + FD_SLACK
            )

        wait_until(drained, 30, "server-side streams and sockets to return to baseline", 0.5)
        if rss_after:
            left_s = 30 - (time.monotonic() - vanished_at)
            what = f"RSS back to its baseline of {rss_after[0]:.0f} MiB"
            wait_until(lambda: app.rss_mb() <= rss_after[0] + RSS_SLACK_MB, left_s, what, 0.5)
        rss_after.append(app.rss_mb())
    assert app.unhandled_errors() == [], app.error_summary()


async def make_changes(app: AppProcess, event_id: int, venue: Venue, round_no: int) -> None:
    """A few holds, so the server has something to write to the vanished streams."""
    async with httpx.AsyncClient(base_url=app.url, timeout=10) as http:
        api = Api(http, event_id)
        token, _ = await api.session()
        for pair in seat_pairs(venue)[3 * round_no : 3 * round_no + 3]:
            assert (await api.hold(token, pair)).status_code == 201


# -- Huge and hostile input ---------------------------------------------------------------------

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
        async with httpx.AsyncClient(base_url=app.url, timeout=10) as http:
            api = Api(http, event_id)
            token, _ = await api.session()
            response = await api.hold(token, seat_pairs(venue)[0])
            assert response.status_code == 201, response.text
            return token, response.json()["hold_token"]

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


# -- Graceful shutdown with open streams ----------------------------------------------------

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
