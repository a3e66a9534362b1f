"""Throw-away backends and server processes for the benchmarks.

A benchmark gets a PostgreSQL database and a Redis key prefix of its own, both
removed when it ends however it ends, and runs the server it measures as a
child process that counts as started once it answers and is always stopped
when the benchmark is done with it.

Environment: SEATMAP_BENCH_PG_ADMIN_URL, a database on the server where scratch
databases are created (default postgresql://postgres@127.0.0.1:5432/test);
SEATMAP_BENCH_REDIS_URL, the Redis server (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import asyncpg
import psutil
import redis

from seatmap.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "SEATMAP_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SEATMAP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
KEY_SCAN_COUNT = 1000
KEY_DELETE_BATCH = 500
READY_POLL_S = 0.2


def database_url(admin_url: str, database: str) -> str:
    """`admin_url` with its database name replaced by `database` (query string kept)."""
    head, _, query = admin_url.partition("?")
    base = head.rpartition("/")[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def database(benchmark: str, admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """An empty database of its own on the server of `admin_url`; yields its URL.

    It is named `seatmap_bench_<benchmark>_<random>` and dropped when the block
    ends, however it ends, closing any connection still open to it. Enter it
    outside a running event loop.
    """
    name = f"seatmap_bench_{benchmark}_{secrets.token_hex(4)}"
    asyncio.run(_execute(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield database_url(admin_url, name)
    finally:
        asyncio.run(_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def key_prefix(benchmark: str, redis_url: str = REDIS_URL) -> Iterator[str]:
    """A Redis key prefix no other run uses; every key under it is deleted when the block ends."""
    prefix = f"seatmap-bench-{benchmark}-{secrets.token_hex(4)}:"
    try:
        yield prefix
    finally:
        delete_keys(redis_url, prefix)


def delete_keys(redis_url: str, prefix: str) -> int:
    """Delete every key that starts with `prefix`; returns how many were deleted."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=KEY_SCAN_COUNT))
        return sum(
            int(client.delete(*keys[i : i + KEY_DELETE_BATCH]))
            for i in range(0, len(keys), KEY_DELETE_BATCH)
        )
    finally:
        client.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment of the call."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_tree(pid: int) -> list[psutil.Process]:
    """The process `pid` and all its descendants alive now; empty if it has exited."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(processes: Iterable[psutil.Process]) -> float:
    """User + system CPU time used so far by these processes (those that exited count 0)."""
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def server_environ(settings: Settings, **variables: str) -> dict[str, str]:
    """The environment of a server child process that connects like `settings`.

    It is this process's environment without its SEATMAP_* variables, so that the
    server is configured by the benchmark alone and not by the calling shell, plus
    the settings' connection variables, plus `variables`.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEATMAP_")}
    env.update(settings.connection_environ())
    env.update(variables)
    return env


def http_get(url: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
    """GET `url`; (status, body), with status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()
    except OSError:
        return 0, b""


class ServerProcess:
    """A server in a child process: started and ready on entering, stopped on leaving.

    The command runs in the repository root. With `log`, its output goes to that
    file; otherwise it shares this process's terminal.
    """

    def __init__(
        self,
        command: Sequence[str],
        ready_url: str,
        *,
        env: dict[str, str] | None = None,
        log: Path | None = None,
        start_timeout_s: float = 60.0,
        stop_timeout_s: float = 20.0,
    ) -> None:
        self.command = list(command)
        self.ready_url = ready_url
        self.env = env
        self.log = log
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.stopped_in_s: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: BinaryIO | None = None

    @property
    def pid(self) -> int:
        """The child's process id (the uvicorn supervisor when it runs workers)."""
        if self._process is None:
            raise RuntimeError("the server has not been started")
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """The child's exit status, None while it runs."""
        return None if self._process is None else self._process.poll()

    def start(self) -> None:
        """Start the command and return once GET `ready_url` answers 200.

        Raises RuntimeError, after stopping the child, if it exits or is not ready
        within `start_timeout_s`.
        """
        output: BinaryIO | None = None
        if self.log is not None:
            output = self._log_file = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
        )
        try:
            self._wait_ready(self._process)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> None:
        see_log = f"; see {self.log}" if self.log is not None else ""
        deadline = time.monotonic() + self.start_timeout_s
        while http_get(self.ready_url, timeout_s=2.0)[0] != 200:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}{see_log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer {self.ready_url}{see_log}")
            time.sleep(READY_POLL_S)

    def stop(self) -> float:
        """SIGTERM, then SIGKILL after `stop_timeout_s`; the seconds the child took to exit.

        Only the first call stops the child; later ones return the same figure, and a
        call before `start` returns 0.
        """
        if self._process is None or self.stopped_in_s is not None:
            return self.stopped_in_s or 0.0
        started = time.monotonic()
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self.stopped_in_s = time.monotonic() - started
        if self._log_file is not None:
            self._log_file.close()
        return self.stopped_in_s

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
