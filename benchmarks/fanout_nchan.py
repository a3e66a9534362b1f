"""Live-update fan-out through nginx + nchan, beside Pushpin, on the same load.

    python benchmarks/fanout_nchan.py [--clients 50000] [--events 5] [--rate 10]
        [--seconds 20] [--pushpins 3] [--generators 4] [--drain 3]

Pushpin run: exactly benchmarks/fanout.py's (`run_pushpin`).

nchan run: one private nginx with the nchan module from deploy/nchan/nginx.conf
(its own prefix folder and free ports; four workers, so 50,000 connections stay
under 20,000 open files per process) in front of one app process started as
fanout.py starts it, without GRIP settings. The app has no nchan publisher, so a
relay process stands in for one: it follows each event's stream from the app
(one SSE connection per event, resumed with Last-Event-ID if it drops) and POSTs
every message's `data` once to nchan's publisher for channel `ev<id>`. The relay
is server-side work, so its CPU counts with the app's and nginx's. The same load
generators (benchmarks/fanout_clients.py) connect to nchan's subscriber location.

Printed: fanout.py's line for each engine, then nchan's deliveries per server
CPU-second and memory per connection as ratios of Pushpin's. nchan numbers the
messages itself ("<time>:<n>"), so the SSE ids clients see through it are not
the app's change-log positions: Last-Event-ID resume against change-log ids, and
`reset` when the log was trimmed, do not hold through nchan.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import scratch
from fanout import app_command, app_env, bench_backends, line, prepare, run_pushpin
from fanout_run import SETTLE_S, RunResult, measure

from seatmap.settings import Settings

CONFIG = scratch.ROOT / "deploy" / "nchan" / "nginx.conf"
NGINX = "/usr/sbin/nginx"
RELAY_READY = "RELAY READY"
RELAY_TIMEOUT_S = 30.0
RETRY_S = 0.5
PUBLISH_TIMEOUT_S = 30.0
START_ATTEMPTS = 3
TIME_WAIT_S = 30.0
IDS_NOTE = (
    "note: nchan's SSE ids are its own (<time>:<n>), not change-log positions, so "
    "Last-Event-ID resume against change-log ids does not hold through nchan; its "
    "publisher here is a relay standing in for an app-side one (its CPU counted)"
)


class PrivateNchan:
    """nginx + nchan from deploy/nchan/nginx.conf in its own prefix folder, on free ports."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = scratch.free_port()
        self.publish_port = scratch.free_port()
        self.publish_url = f"http://127.0.0.1:{self.publish_port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 15.0) -> None:
        """Start nginx and return once its publisher location answers."""
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)
        # Workers drop to an unprivileged user when started as root: let them in.
        self.folder.chmod(0o755)
        self.folder.parent.chmod(0o755)
        shutil.copy(CONFIG, self.folder / "nginx.conf")
        listen = {"subscribe": f"{self.port} reuseport", "publish": str(self.publish_port)}
        for name, spec in listen.items():
            (self.folder / f"{name}_listen.conf").write_text(f"listen 127.0.0.1:{spec};\n")
        self.proc = subprocess.Popen(
            [shutil.which("nginx") or NGINX, "-p", str(self.folder),
             "-c", str(self.folder / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "logs" / "stderr.log", "ab"),  # noqa: SIM115
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while scratch.http_get(f"{self.publish_url}/nchan_status", timeout_s=2)[0] != 200:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "logs" / "error.log").read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"nginx + nchan did not come up:\n{log[-2000:]}")
            time.sleep(scratch.READY_POLL_S)

    def processes(self) -> list[psutil.Process]:
        """The nginx master and its workers."""
        return [] if self.proc is None else scratch.process_tree(self.proc.pid)

    def stop(self) -> None:
        """Stop nginx (fast shutdown, then kill)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


async def _publish(publisher: httpx.AsyncClient, event_id: int, event: str, data: str,
                   took_ms: list[float]) -> None:  # fmt: skip
    headers = {"X-EventSource-Event": event} if event else {}
    started = time.monotonic()
    response = await publisher.post(f"/channels/ev{event_id}", content=data, headers=headers)
    response.raise_for_status()
    took_ms.append((time.monotonic() - started) * 1000)


async def _follow(app: httpx.AsyncClient, publisher: httpx.AsyncClient, event_id: int,
                  opened: asyncio.Event, took_ms: list[float]) -> None:  # fmt: skip
    """Publish every message of one event's stream from the app into nchan, forever."""
    last_id = ""
    while True:
        headers = {"Accept": "text/event-stream"} | ({"Last-Event-ID": last_id} if last_id else {})
        try:
            async with app.stream("GET", f"/events/{event_id}/stream", headers=headers) as reply:
                reply.raise_for_status()
                opened.set()
                event, data, msg_id = "", [], ""
                async for text in reply.aiter_lines():
                    if text:
                        field, _, value = text.partition(":")
                        value = value.removeprefix(" ")
                        if field == "data":
                            data.append(value)
                        elif field == "event":
                            event = value
                        elif field == "id":
                            msg_id = value
                        continue
                    if data:
                        await _publish(publisher, event_id, event, "\n".join(data), took_ms)
                    last_id = msg_id or last_id
                    event, data, msg_id = "", [], ""
        except httpx.HTTPError as exc:
            # Resuming from the last published position republishes what failed.
            print(f"relay: event {event_id}: {exc!r}; resuming", file=sys.stderr)
        await asyncio.sleep(RETRY_S)


async def relay(app_url: str, publish_url: str, event_ids: list[int]) -> None:
    """Follow every event's stream from the app until SIGTERM; then print publish times."""
    timeout = httpx.Timeout(10.0, read=None)
    async with (
        httpx.AsyncClient(base_url=app_url, timeout=timeout) as app,
        httpx.AsyncClient(base_url=publish_url, timeout=PUBLISH_TIMEOUT_S) as publisher,
    ):
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        took_ms: list[float] = []
        opened = [asyncio.Event() for _ in event_ids]
        tasks = [
            asyncio.create_task(_follow(app, publisher, e, o, took_ms))
            for e, o in zip(event_ids, opened, strict=True)
        ]
        await asyncio.gather(*(o.wait() for o in opened))
        print(RELAY_READY, flush=True)
        await stop.wait()
        for task in tasks:
            task.cancel()
        took = sorted(took_ms) or [float("nan")]
        print(f"relay: {len(took_ms)} messages published, POST to nchan p50 "
              f"{statistics.median(took):.1f} / p99 {took[int(len(took) * 0.99)]:.1f} / max "
              f"{took[-1]:.1f} ms", flush=True)  # fmt: skip


def _start_relay(app_url: str, publish_url: str, event_ids: list[int]) -> subprocess.Popen[str]:
    spec = json.dumps({"app": app_url, "publish": publish_url, "events": event_ids})
    proc = subprocess.Popen([sys.executable, __file__, "--relay", spec],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], RELAY_TIMEOUT_S)
    if not ready or proc.stdout.readline().strip() != RELAY_READY:
        proc.kill()
        proc.wait(timeout=10)
        raise RuntimeError("the relay did not open every event's stream")
    return proc


def run_nchan(settings: Settings, ids: list[int], seats: list[str], args: argparse.Namespace,
              folder: Path) -> tuple[RunResult, float, str]:  # fmt: skip
    """Clients through nginx + nchan, fed by the relay: the result, nginx's idle RSS (KB)
    and the relay's publish times."""
    port = scratch.free_port()
    app_url = f"http://127.0.0.1:{port}"
    nchan = PrivateNchan(folder / "nchan")
    app = scratch.ServerProcess(app_command(port), f"{app_url}/healthz", env=app_env(settings),
                                log=folder / "app-nchan.log")  # fmt: skip
    with app:
        nchan.start()
        try:
            relay_proc = _start_relay(app_url, nchan.publish_url, ids)
            try:
                idle_kb = sum(p.memory_info().rss for p in nchan.processes()) / 1024

                def servers() -> list[psutil.Process]:
                    return (scratch.process_tree(app.pid) + scratch.process_tree(relay_proc.pid)
                            + nchan.processes())  # fmt: skip

                result = measure(settings, app_url, servers, nchan.processes,
                                 [("127.0.0.1", nchan.port)], ids, seats, args.clients,
                                 args.rate, args.seconds, args.generators, args.drain)  # fmt: skip
            finally:
                relay_proc.send_signal(signal.SIGTERM)
                said, _ = relay_proc.communicate(timeout=10)
            return result, idle_kb, said.strip()
        finally:
            nchan.stop()


def pushpin_run(settings: Settings, ids: list[int], seats: list[str], args: argparse.Namespace,
                folder: Path) -> RunResult:  # fmt: skip
    """fanout.py's Pushpin run, tried again on fresh ports if an instance could not bind."""
    for attempt in range(1, START_ATTEMPTS + 1):
        (folder / f"try-{attempt}").mkdir()
        try:
            return run_pushpin(settings, ids, seats, args, folder / f"try-{attempt}", args.drain)
        except AssertionError as exc:
            # Pushpin listens on 0.0.0.0, which a client port of an earlier run still in
            # TIME_WAIT on 127.0.0.2-9 blocks ("Address already in use"): wait them out.
            if "did not come up" not in str(exc) or attempt == START_ATTEMPTS:
                raise
            print(f"pushpin did not start (try {attempt}); trying other ports", file=sys.stderr)
            time.sleep(TIME_WAIT_S)
    raise AssertionError("unreachable")


def conditions() -> str:
    """What else the machine was doing: cores and load average."""
    one, five, _ = os.getloadavg()
    return f"conditions: {os.cpu_count()} cores, load average {one:.1f} (1 min) {five:.1f} (5 min)"


def main() -> None:
    """Run Pushpin, then nginx + nchan, on the same load; print both and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--rate", type=float, default=10.0, help="holds per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--pushpins", type=int, default=3)
    parser.add_argument("--generators", type=int, default=4)
    late = "seconds after the last hold after which what has not arrived counts as lost"
    parser.add_argument("--drain", type=float, default=SETTLE_S, help=late)
    parser.add_argument("--relay", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relay:
        spec = json.loads(args.relay)
        asyncio.run(relay(spec["app"], spec["publish"], spec["events"]))
        return
    with bench_backends("fanout_nchan") as (settings, folder):
        ids, seats = asyncio.run(prepare(settings, args.events))
        print(conditions(), flush=True)
        pushpin = pushpin_run(settings, ids, seats, args, folder)
        print(line("pushpin", pushpin), flush=True)
        print(conditions(), flush=True)
        # Seats of their own: those Pushpin's run held stay held.
        own_seats = seats[len(seats) // 2 :]
        nchan, idle_kb, publish_times = run_nchan(settings, ids, own_seats, args, folder)
        print(line("nchan", nchan), flush=True)
        print(publish_times)
        print(f"nginx + nchan RSS before clients: {idle_kb / 1024:.1f} MB (4 workers + master)")
        cpu = nchan.deliveries_per_cpu_s / max(pushpin.deliveries_per_cpu_s, 1e-9)
        memory = nchan.memory_per_connection_kb / max(pushpin.memory_per_connection_kb, 1e-9)
        print(f"nchan / Pushpin: deliveries per server CPU-second {cpu:.2f}x, "
              f"memory per connection {memory:.2f}x")  # fmt: skip
        print(IDS_NOTE)


if __name__ == "__main__":
    main()
