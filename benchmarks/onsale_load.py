"""The on-sale benchmark's processes: the app server under test and locust's buyers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import scratch
from onsale_sale import Run

from seatmap.settings import Settings

SERVER_START_TIMEOUT_S = 180
SERVER_STOP_TIMEOUT_S = 30
# Locust is killed when it runs this much longer than the load it was asked for.
LOCUST_OVERRUN_S = 120


def app_server(run: Run, settings: Settings, port: int) -> scratch.ServerProcess:
    """`seatmap serve --workers N` (or uvicorn serving --app), logging to run.out/server.log."""
    # Each simulated buyer has its own X-Forwarded-For address, believed from 127.0.0.1 only.
    env = scratch.server_environ(
        settings,
        SEATMAP_LOG_JSON="1",
        PYTHONUNBUFFERED="1",
        SEATMAP_TRUSTED_PROXIES="127.0.0.1/32",
    )
    command = [sys.executable, "-m", "seatmap_app.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(run.args.workers)]  # fmt: skip
    if run.args.app:
        command = [sys.executable, "-m", "uvicorn", run.args.app, "--factory", "--host",
                   "127.0.0.1", "--port", str(port), "--workers", str(run.args.workers),
                   "--proxy-headers", "--log-level", "warning",
                   "--timeout-graceful-shutdown", "10"]  # fmt: skip
        if run.args.workers > 1:
            shared = run.out / "metrics-multiproc"
            shutil.rmtree(shared, ignore_errors=True)
            shared.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
    return scratch.ServerProcess(
        command,
        f"http://127.0.0.1:{port}/readyz",
        env=env,
        log=run.out / "server.log",
        start_timeout_s=SERVER_START_TIMEOUT_S,
        stop_timeout_s=SERVER_STOP_TIMEOUT_S,
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants so far."""
    return scratch.cpu_seconds(scratch.process_tree(pid))


def run_locust(run: Run, url: str, plan: Path, log: Path, server_pid: int) -> dict[str, float]:
    """Run the buyers headless (CSV under run.out/locust_*); where the CPU time went."""
    env = {
        **os.environ,
        "SEATMAP_LOAD_PLAN": str(plan),
        "SEATMAP_LOAD_LOG": str(log),
        "SEATMAP_API_KEY": run.api_key,
        "SEATMAP_LOAD_THINK": str(run.args.think),
        # Every connection goes to an IP literal: resolving it inline beats queueing
        # hundreds of getaddrinfo calls on gevent's small resolver thread pool.
        "GEVENT_RESOLVER": "block",
    }
    locustfile = scratch.ROOT / "benchmarks" / "locustfile.py"
    args = [
        sys.executable, "-m", "locust", "-f", str(locustfile),
        "--headless", "-u", str(run.args.users), "-r", str(run.args.spawn_rate),
        "-t", f"{run.args.duration}s", "--host", url, "--csv", str(run.out / "locust"),
        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    server_before = cpu_seconds(server_pid)
    started = time.monotonic()
    with open(run.out / "locust.log", "wb") as out:
        locust = psutil.Popen(args, env=env, cwd=scratch.ROOT, stdout=out, stderr=subprocess.STDOUT)
        locust_cpu = 0.0
        try:
            while locust.poll() is None:
                locust_cpu = max(locust_cpu, cpu_seconds(locust.pid))
                if time.monotonic() - started > run.args.duration + LOCUST_OVERRUN_S:
                    locust.kill()
                time.sleep(0.5)
        finally:
            if locust.poll() is None:
                locust.kill()
                locust.wait(timeout=10)
    wall = time.monotonic() - started
    return {
        "server_cores": (cpu_seconds(server_pid) - server_before) / wall,
        "locust_cores": locust_cpu / wall,
        "load_average": os.getloadavg()[0],
    }
