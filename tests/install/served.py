"""`seatmap serve` as a user runs it: a child process with SEATMAP_* settings, stopped by SIGTERM.

The environment is built from scratch (no SEATMAP_* variable of the test run
leaks in), the log goes to a file the test can read, and the process is
always stopped, however the test ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.conftest import free_port


def clean_environ(extra: dict[str, str]) -> dict[str, str]:
    """The current environment without any SEATMAP_* or PYTHONPATH variable, plus `extra`."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SEATMAP_") and key not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    return {**kept, **extra}


class ServedApp:
    """A `seatmap serve` child process on a free port of 127.0.0.1."""

    def __init__(
        self, command: Sequence[str], env: dict[str, str], cwd: Path, log_path: Path
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {"SEATMAP_HOST": "127.0.0.1", "SEATMAP_PORT": str(self.port), **env}
        self.command = list(command)
        self.cwd = cwd
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 90.0) -> ServedApp:
        """Start the server and wait until /readyz answers 200; fail naming the log otherwise."""
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=clean_environ(self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"seatmap serve exited {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"seatmap serve not ready after {timeout_s} s:\n{self.log()}")

    def log(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM, wait for a clean exit (SIGKILL after `timeout_s`); the exit status."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return int(self.proc.returncode)
