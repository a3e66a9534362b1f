"""What the stream fault tests measure and feed: /healthz latency, snapshots, a busy log."""

from __future__ import annotations

import random
import threading
import time
from types import TracebackType

import httpx
import numpy as np

from seatmap.livekeys import stream_key
from seatmap.status import SeatStatus
from tests.ops.servers import REDIS_PREFIX, PrivateRedis

PROBE_EVERY_S = 0.01


class HealthProbe:
    """GET /healthz every PROBE_EVERY_S from a thread while the block runs (and for at least
    `min_s`); latencies in ms."""

    def __init__(self, url: str, min_s: float = 2.0) -> None:
        self.url = f"{url}/healthz"
        self.min_s = min_s
        self.latencies_ms: list[float] = []
        self.failures = 0
        self._started = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthProbe:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        time.sleep(max(0.0, self._started + self.min_s - time.monotonic()))
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as http:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    ok = http.get(self.url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.latencies_ms.append((time.perf_counter() - started) * 1000)
                self.failures += not ok
                self._stop.wait(PROBE_EVERY_S)

    def p99_ms(self) -> float:
        """The 99th percentile latency."""
        assert len(self.latencies_ms) >= 20, f"only {len(self.latencies_ms)} probes"
        return float(np.percentile(self.latencies_ms, 99))


def snapshot(url: str, event_id: int) -> tuple[bytes, str]:
    """The event's public statuses and the position they are current to."""
    response = httpx.get(f"{url}/events/{event_id}/status.bin", timeout=10)
    response.raise_for_status()
    return response.content, response.headers["x-last-event-id"]


def append_changes(
    redis: PrivateRedis, event_id: int, seat_count: int, count: int, seats_each: int = 10
) -> str:
    """Log `count` changes straight into the event's change log (holds and releases of random
    seats, as busy buyers would make them); the Stream id of the last one."""
    key = stream_key(REDIS_PREFIX, event_id)
    chooser = random.Random()
    last = ""
    with redis.client() as client, client.pipeline(transaction=False) as pipe:
        for n in range(count):
            status = SeatStatus.HELD if n % 2 == 0 else SeatStatus.AVAILABLE
            seats = chooser.sample(range(seat_count), seats_each)
            fields = {"kind": "hold" if status == SeatStatus.HELD else "release",
                      "status": str(int(status)), "seats": ",".join(map(str, seats))}  # fmt: skip
            pipe.xadd(key, fields)  # type: ignore[arg-type]
            if len(pipe) >= 1000 or n == count - 1:
                last = pipe.execute()[-1].decode()
    return last


def paced_changes(
    redis: PrivateRedis,
    event_id: int,
    seat_count: int,
    per_s: int,
    seconds: float,
    seats_each: int = 10,
) -> str:
    """Log changes at a steady rate for a while; the Stream id of the last one."""
    step_s = 0.05
    last = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        count = max(1, int(per_s * step_s))
        last = append_changes(redis, event_id, seat_count, count, seats_each)
        time.sleep(max(0.0, step_s - (time.monotonic() - started)))
    return last
