"""nginx from Debian as the load balancer of several app nodes, run from deploy/nginx."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "nginx" / "nginx.conf"


class Balancer:
    """nginx with the repository's config, balancing over the given node URLs."""

    def __init__(self, folder: Path, node_urls: list[str]) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.node_urls = node_urls
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10) -> Balancer:
        """Write listen.conf and upstream.conf beside a copy of the config; wait for it."""
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)
        shutil.copy(CONFIG, self.folder / "nginx.conf")
        (self.folder / "listen.conf").write_text(f"listen 127.0.0.1:{self.port};\n")
        servers = "".join(
            f"    server {url.removeprefix('http://')} max_fails=1 fail_timeout=2s;\n"
            for url in self.node_urls
        )
        (self.folder / "upstream.conf").write_text(
            f"upstream seatmap_nodes {{\n    least_conn;\n{servers}    keepalive 32;\n}}\n"
        )
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "logs" / "stderr.log", "ab"),  # noqa: SIM115
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "logs" / "error.log").read_text(errors="replace")
                raise AssertionError(f"nginx did not come up:\n{log[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop nginx (fast shutdown)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
