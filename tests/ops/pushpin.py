"""Pushpin from Debian as the fan-out engine, run from the repository's deploy/pushpin config.

Its ports come from below Linux's ephemeral range (32768-), so no outgoing connection
of the machine (tens of thousands in the fan-out benchmark) holds one of them, in
TIME_WAIT or otherwise, when Pushpin starts again on the same ports; it listens on
127.0.0.1 only, as the deploy config says.
"""

from __future__ import annotations

import configparser
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "pushpin" / "pushpin.conf"
SIG_KEY = "fanout-test-signing-key-of-32-bytes-or-more"
# Where Pushpin's ports are taken from: under the ephemeral range, above the test
# Redis Cluster's (tests/ops/cluster.py: 20000-22767 and their bus ports +10000).
PORT_RANGE = (23000, 30000)
_taken: set[int] = set()


def listen_port() -> int:
    """A free port on 127.0.0.1 below the ephemeral range, not handed out before here."""
    while True:
        port = random.randint(*PORT_RANGE)
        if port in _taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port


class PrivatePushpin:
    """One Pushpin instance of this test run, in its own folder with its own ports."""

    def __init__(self, folder: Path, target: str, name: str = "pp") -> None:
        self.folder = folder
        self.target = target.removeprefix("http://")
        self.name = name
        self.port = listen_port()
        self.publish_port = listen_port()
        self.zmq_ports = [listen_port() for _ in range(3)]
        self.url = f"http://127.0.0.1:{self.port}"
        self.publish_url = f"http://127.0.0.1:{self.publish_port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> Path:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(CONFIG)
        run, logs = self.folder / "run", self.folder / "log"
        run.mkdir(parents=True, exist_ok=True)
        logs.mkdir(parents=True, exist_ok=True)
        parser["global"]["rundir"] = str(run)
        parser["global"]["ipc_prefix"] = f"{self.name}-"
        parser["runner"]["http_port"] = f"127.0.0.1:{self.port}"
        parser["runner"]["logdir"] = str(logs)
        parser["proxy"]["sig_key"] = SIG_KEY
        push, sub, command = self.zmq_ports
        parser["handler"]["push_in_spec"] = f"tcp://127.0.0.1:{push}"
        parser["handler"]["push_in_sub_specs"] = f"tcp://127.0.0.1:{sub}"
        parser["handler"]["command_spec"] = f"tcp://127.0.0.1:{command}"
        parser["handler"]["push_in_http_port"] = str(self.publish_port)
        (self.folder / "routes").write_text(f"* {self.target}\n")
        path = self.folder / "pushpin.conf"
        with open(path, "w") as handle:
            parser.write(handle)
        return path

    def start(self, timeout_s: float = 15) -> PrivatePushpin:
        """Start Pushpin and wait until it proxies /healthz to the app."""
        binary = shutil.which("pushpin") or "/usr/bin/pushpin"
        config = self._write_config()
        self.proc = subprocess.Popen(
            [binary, "--config", str(config)],
            stdout=open(self.folder / "runner.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"pushpin did not come up:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop Pushpin and every process it started."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the runner's and the proxy's logs."""
        texts = []
        for path in [self.folder / "runner.log", *sorted((self.folder / "log").glob("*.log"))]:
            if path.exists():
                texts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(texts)
