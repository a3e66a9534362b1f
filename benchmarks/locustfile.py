"""On-sale buyers for locust: look at the map, watch it live, hold seats, buy most of them.

Each journey is a new buyer behind their own (forwarded) address:

1. create a session; open the event's TileJSON;
2. fetch the tiles one screen needs at the overview zoom (phone or desktop screen);
3. open the live stream (a light SSE client in its own greenlet, kept open for
   the journey, which times how long the buyer's own hold takes to show up);
4. fetch the tiles around the block they like at the seat-detail zoom
   (revalidating with If-None-Match tiles this user has seen before);
5. hold 1-6 seats: pick them in a row of that block, or ask for best-available;
   on 409/422 try once more elsewhere, then fall back to best-available;
6. after a checkout pause, confirm most holds (operator key, one Idempotency-Key
   per sale; 10% extend first), release some, and walk away from the rest so
   they expire.

Pauses are people's: 2-5 s on each map view, 4-12 s of checkout, 3-10 s before
the next buyer on the same user; a journey takes about 20 s, about 24 requests.

409, 422 and 429 are expected answers in an on-sale and count as successes; any
other non-2xx/304 answer is an error. Every hold and sale is appended to a JSON
lines log so that `benchmarks/onsale.py` can audit PostgreSQL and Redis
against what buyers were told.

Environment (set by benchmarks/onsale.py):
  SEATMAP_LOAD_PLAN   JSON file: event id, pyramid geometry, blocks of seats
  SEATMAP_LOAD_LOG    JSON lines file to append holds and sales to
  SEATMAP_API_KEY     operator key used to confirm sales
  SEATMAP_LOAD_THINK  multiplier of every think time (default 1; --quick uses less)
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import socket
import time
import uuid
from collections import Counter, deque
from typing import Any
from urllib.parse import urlsplit

import gevent
from geventhttpclient.response import HTTPConnectionClosed
from locust import FastHttpUser, between, events, task
from locust.env import Environment

TILE_PX = 256
EXPECTED = {409, 422, 429}
SCREENS = ((390, 844), (390, 844), (412, 915), (1440, 900), (1920, 1080))
# Messages kept per stream to find a hold whose message beat the hold's own reply.
RECENT_MESSAGES = 64
STREAM_CONNECT_TIMEOUT_S = 10.0
# How long a leaving buyer waits for its own hold to arrive on the stream.
STREAM_GRACE_S = 2.0
# Pauses longer than this may outlast the server's 5 s keep-alive once a busy machine adds
# its own delays on both sides.
KEEPALIVE_SAFE_S = 2.5
MAX_STREAM_BUFFER = 1 << 20


def _load_plan() -> dict[str, Any]:
    path = os.environ.get("SEATMAP_LOAD_PLAN")
    if not path:
        raise SystemExit("SEATMAP_LOAD_PLAN is not set; run benchmarks/onsale.py")
    with open(path, encoding="utf-8") as handle:
        plan: dict[str, Any] = json.load(handle)
    return plan


PLAN = _load_plan()
EVENT_ID = int(PLAN["event_id"])
BLOCKS: list[dict[str, Any]] = PLAN["blocks"]
BLOCK_WEIGHTS = list(itertools.accumulate(b["weight"] for b in BLOCKS))
POPULAR_SECTIONS: list[str] = PLAN["popular_sections"]
API_KEY = os.environ.get("SEATMAP_API_KEY", "")
THINK = float(os.environ.get("SEATMAP_LOAD_THINK", "1"))
STATUSES: Counter[str] = Counter()
_log_handle = open(  # noqa: SIM115 - kept open for the whole run, closed at quit
    os.environ.get("SEATMAP_LOAD_LOG", os.devnull), "a", buffering=1, encoding="utf-8"
)
_ids = itertools.count(1)


def log_record(**record: Any) -> None:
    """Append one audit record (hold, sale, release, abandon) as a JSON line."""
    record["at"] = round(time.time(), 3)
    _log_handle.write(json.dumps(record, separators=(",", ":")) + "\n")


@events.quitting.add_listener
def _write_statuses(environment: Environment, **_: Any) -> None:
    """Leave the per-request status counts next to the log for the on-sale table."""
    path = os.environ.get("SEATMAP_LOAD_LOG")
    if path:
        with open(path + ".statuses.json", "w", encoding="utf-8") as handle:
            json.dump(dict(STATUSES), handle, indent=1, sort_keys=True)
    _log_handle.close()


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

    def __init__(self, environment: Environment, host: str, headers: dict[str, str]) -> None:
        self._environment = environment
        parts = urlsplit(host)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._headers = headers
        self._recent: deque[tuple[float, bytes]] = deque(maxlen=RECENT_MESSAGES)
        self._awaited: set[int] = set()
        self._replied_at = 0.0
        self._greenlet: gevent.Greenlet | None = None
        self.messages = 0

    def _fire(self, name: str, started: float, exc: Exception | None = None, size: int = 0) -> None:
        self._environment.events.request.fire(
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
        path = f"/events/{EVENT_ID}/stream"
        lines = [f"GET {path} HTTP/1.0", f"Host: {self._address[0]}", "Accept: text/event-stream"]
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


class Buyer(FastHttpUser):
    """One person after another buying tickets from the same browser and address."""

    wait_time = between(3.0 * THINK, 10.0 * THINK)
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        """Pick this user's address and screen; its tile cache lasts across journeys."""
        octets = (random.randint(0, 255), random.randint(0, 255), random.randint(1, 254))
        self.address = "10.{}.{}.{}".format(*octets)
        self.screen = random.choice(SCREENS)
        self.etags: dict[str, str] = {}
        self.tile_template = ""
        self.max_zoom = int(PLAN["max_zoom"])

    def think(self, low_s: float, high_s: float) -> None:
        """Pause like a person would (scaled by SEATMAP_LOAD_THINK).

        Before a long pause the idle connections are dropped, as a browser does when the
        server closes them (uvicorn's keep-alive is 5 s): it opens new ones afterwards.
        """
        pause_s = random.uniform(low_s, high_s) * THINK
        if pause_s > KEEPALIVE_SAFE_S:
            self.client.client.close()
        gevent.sleep(pause_s)

    # -- HTTP helpers -------------------------------------------------------------------

    def _call(
        self, method: str, path: str, name: str, *, expected: set[int] | None = None, **kw: Any
    ) -> tuple[int, Any, Any]:
        """One request: 2xx/304 and `expected` statuses are successes. (status, json, headers).

        Like a browser, it resends once, on a new connection, a request whose reused
        connection the server closed for idling (it never reached the application);
        that first try is counted apart, under "... (idle connection, resent)".
        """
        headers = {"X-Forwarded-For": self.address, **kw.pop("headers", {})}
        for attempt in range(2):
            with self.client.request(
                method, path, name=name, headers=headers, catch_response=True, **kw
            ) as response:
                status = response.status_code
                error = getattr(response, "error", None)
                if status == 0 and attempt == 0 and isinstance(error, HTTPConnectionClosed):
                    response.request_meta["name"] = f"{name} (idle connection, resent)"
                    response.success()
                    self.client.client.close()
                    continue
                STATUSES[f"{name} {status}"] += 1
                body: Any = None
                content_type = response.headers.get("content-type", "") if response.headers else ""
                if "json" in content_type:
                    try:
                        body = response.json()
                    except ValueError:
                        body = None
                if 200 <= status < 300 or status == 304 or status in (expected or set()):
                    response.success()
                else:
                    detail = body.get("error") if isinstance(body, dict) else ""
                    response.failure(f"{status} {detail or repr(error)}".strip())
                return status, body, response.headers
        raise AssertionError("unreachable: the second attempt always returns")

    def _tiles(self, z: int, cx0: float, cy0: float) -> None:
        """Fetch the tiles one screen shows at zoom z, centred on zoom-0 pixel (cx0, cy0)."""
        width, height = self.screen
        scale = 2**z
        world_w = math.ceil(PLAN["world_px0"][0] * scale)
        world_h = math.ceil(PLAN["world_px0"][1] * scale)
        nx, ny = max(1, math.ceil(world_w / TILE_PX)), max(1, math.ceil(world_h / TILE_PX))
        cx, cy = cx0 * scale, cy0 * scale
        x0 = max(0, math.floor((cx - width / 2) / TILE_PX))
        x1 = min(nx - 1, math.floor((cx + width / 2 - 1) / TILE_PX))
        y0 = max(0, math.floor((cy - height / 2) / TILE_PX))
        y1 = min(ny - 1, math.floor((cy + height / 2 - 1) / TILE_PX))
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                path = self.tile_template.replace("{z}", str(z))
                path = path.replace("{x}", str(x)).replace("{y}", str(y))
                headers = {"If-None-Match": self.etags[path]} if path in self.etags else {}
                status, _, resp_headers = self._call("GET", path, f"tile z{z}", headers=headers)
                etag = resp_headers.get("etag") if resp_headers is not None else None
                if status == 200 and etag:
                    self.etags[path] = etag

    def _overview_zoom(self) -> int:
        """The largest zoom at which the whole venue fits this screen."""
        width, height = self.screen
        fit = min(width / PLAN["world_px0"][0], height / PLAN["world_px0"][1])
        return max(0, min(self.max_zoom, math.floor(math.log2(max(fit, 1e-9)))))

    # -- the journey --------------------------------------------------------------------

    @task
    def journey(self) -> None:
        """One buyer, from opening the map to a sale, a release or an abandoned hold."""
        # A new buyer opens new connections. Reusing one idle for longer than the server's
        # keep-alive (uvicorn: 5 s) races its close, which browsers paper over by retrying.
        self.client.client.close()
        status, body, _ = self._call("POST", "/sessions", "/sessions", expected={429}, json={})
        if status != 201 or not isinstance(body, dict):
            return
        token = body["token"]
        buyer = body.get("buyer_id", "")
        auth = {"Authorization": f"Bearer {token}"}

        status, tilejson, _ = self._call(
            "GET", f"/events/{EVENT_ID}/tiles.json", "/events/[id]/tiles.json"
        )
        if status != 200 or not isinstance(tilejson, dict):
            return
        self.tile_template = urlsplit(tilejson["tiles"][0]).path
        self.max_zoom = int(tilejson.get("maxzoom", self.max_zoom))

        self._tiles(self._overview_zoom(), PLAN["world_px0"][0] / 2, PLAN["world_px0"][1] / 2)
        stream = LiveStream(self.environment, self.host or "", {"X-Forwarded-For": self.address})
        stream.start()
        try:
            self.think(2.0, 5.0)
            block = random.choices(BLOCKS, cum_weights=BLOCK_WEIGHTS)[0]
            detail_zoom = min(self.max_zoom, int(PLAN["detail_zoom"]))
            self._tiles(detail_zoom, block["cx0"], block["cy0"])
            self.think(2.0, 5.0)
            hold = self._hold(auth, block, buyer, stream)
            if hold is not None:
                self._finish(auth, hold, buyer)
        finally:
            stream.close()

    def _hold(
        self, auth: dict[str, str], block: dict[str, Any], buyer: str, stream: LiveStream
    ) -> dict[str, Any] | None:
        """Hold 1-6 seats; up to three tries. The accepted hold, or None."""
        count = random.choices((1, 2, 3, 4, 5, 6), weights=(8, 35, 15, 25, 7, 10))[0]
        for attempt in range(3):
            use_best = attempt == 2 or random.random() < 0.3
            if use_best:
                wanted: dict[str, Any] = {"count": count}
                if random.random() < 0.5:
                    wanted["section"] = random.choice(POPULAR_SECTIONS)
                path, name = f"/events/{EVENT_ID}/best-available", "/events/[id]/best-available"
            else:
                ids = block["ids"]
                start = random.randint(0, max(0, len(ids) - count))
                wanted = {"seats": ids[start : start + count]}
                path, name = f"/events/{EVENT_ID}/holds", "/events/[id]/holds"
            asked_at = time.perf_counter()
            status, body, _ = self._call(
                "POST", path, name, expected=EXPECTED, json=wanted, headers=auth
            )
            if status == 201 and isinstance(body, dict):
                seats = [int(s["index"]) for s in body["seats"]]
                stream.watch(seats, asked_at)
                log_record(
                    kind="hold", buyer=buyer, hold=body["hold_token"], fencing=body["fencing"],
                    seats=seats, expires_at=body.get("expires_at"),
                )  # fmt: skip
                return body
            if status == 429:
                return None
            block = random.choices(BLOCKS, cum_weights=BLOCK_WEIGHTS)[0]
        return None

    def _finish(self, auth: dict[str, str], hold: dict[str, Any], buyer: str) -> None:
        """Confirm (most), release (some) or abandon (the rest) a hold."""
        hold_path = f"/events/{EVENT_ID}/holds/{hold['hold_token']}"
        seats = [int(s["index"]) for s in hold["seats"]]
        fate = random.random()
        if fate < 0.10:
            self.think(3.0, 8.0)
            self._call("POST", f"{hold_path}/extend", "/events/[id]/holds/[token]/extend",
                       headers=auth, json={})  # fmt: skip
            self.think(2.0, 4.0)
        else:
            self.think(4.0, 12.0)  # checkout: payment details, then the box office confirms
        if fate < 0.78:
            key = str(uuid.uuid4())
            headers = {"X-API-Key": API_KEY, "Idempotency-Key": key}
            for _ in range(2):  # a box office retries a failed call once, same key
                status, body, resp_headers = self._call(
                    "POST", f"{hold_path}/confirm", "/events/[id]/holds/[token]/confirm",
                    headers=headers, json={},
                )  # fmt: skip
                if status in (200, 201) and isinstance(body, dict):
                    log_record(
                        kind="sale", buyer=buyer, hold=hold["hold_token"],
                        fencing=hold["fencing"], seats=seats, key=key,
                        order=body.get("order_id", body.get("id")),
                    )  # fmt: skip
                    return
                if status != 503:
                    return
                retry = resp_headers.get("retry-after", "1") if resp_headers is not None else "1"
                gevent.sleep(min(5.0, float(retry) if retry.isdigit() else 1.0))
        elif fate < 0.88:
            status, _, _ = self._call(
                "DELETE", hold_path, "/events/[id]/holds/[token]", headers=auth
            )
            if status in (200, 204):
                log_record(kind="release", buyer=buyer, hold=hold["hold_token"], seats=seats)
        else:
            log_record(kind="abandon", buyer=buyer, hold=hold["hold_token"], seats=seats)
