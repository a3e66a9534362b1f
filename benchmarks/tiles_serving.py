"""What the tile benchmark's HTTP step runs: the tile server, nginx and a bare ASGI app
serving the same tile, and wrk loading them."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import scratch

from seatmap.grid import TileGrid

STOP_TIMEOUT_S = 15.0
NGINX_CONF = """
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ image/png png; }}
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {folder}/www;
    }}
}}
"""
BARE_ASGI_APP = """
BODY = open({tile!r}, "rb").read()
HEADERS = [(b"content-type", b"image/png"), (b"content-length", str(len(BODY)).encode())]
async def app(scope, receive, send):
    if scope["type"] == "http":
        await send({{"type": "http.response.start", "status": 200, "headers": HEADERS}})
        await send({{"type": "http.response.body", "body": BODY}})
"""
# Walks every 2x tile of zoom z in turn, so each request misses the server's cache.
MISSES_SCRIPT = """
local n = 0
request = function()
  local x = n % {nx}
  local y = math.floor(n / {nx}) % {ny}
  n = n + 1
  return wrk.format("GET", "/events/{event_id}/tiles/{z}/" .. x .. "/" .. y .. "@2x.png")
end
"""


def tile_server(
    env: dict[str, str], port: int, workers: int, ready_url: str
) -> scratch.ServerProcess:
    """`tileserver.app` under uvicorn with `workers` workers, ready once `ready_url` answers."""
    command = [sys.executable, "-m", "uvicorn", "tileserver.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--log-level", "warning", "--no-access-log"]  # fmt: skip
    return scratch.ServerProcess(command, ready_url, env=env, stop_timeout_s=STOP_TIMEOUT_S)


def nginx_server(folder: Path, body: bytes, port: int) -> scratch.ServerProcess:
    """nginx serving `body` as the static file /tile.png, configured and run from `folder`."""
    (folder / "www").mkdir()
    (folder / "www" / "tile.png").write_bytes(body)
    for served in (folder, folder / "www"):  # nginx workers run as an unprivileged user
        served.chmod(0o755)
    (folder / "www" / "tile.png").chmod(0o644)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(folder=folder, port=port))
    command = ["nginx", "-c", str(conf), "-p", str(folder)]
    ready_url = f"http://127.0.0.1:{port}/tile.png"
    return scratch.ServerProcess(command, ready_url, stop_timeout_s=STOP_TIMEOUT_S)


def bare_asgi(work: Path, body: bytes, seconds: int, connections: int) -> dict[str, float]:
    """The same bytes from a five-line ASGI app: what uvicorn alone can do on this machine."""
    folder = work / "bare"
    folder.mkdir()
    (folder / "tile.png").write_bytes(body)
    (folder / "bare.py").write_text(BARE_ASGI_APP.format(tile=str(folder / "tile.png")))
    port = scratch.free_port()
    command = [sys.executable, "-m", "uvicorn", "bare:app", "--app-dir", str(folder),
               "--port", str(port), "--log-level", "warning", "--no-access-log",
               "--lifespan", "off"]  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    with scratch.ServerProcess(command, url, stop_timeout_s=STOP_TIMEOUT_S):
        return wrk(url, seconds, connections)


def _requests_per_s(wrk_output: str) -> float:
    return float(re.search(r"Requests/sec:\s+([\d.]+)", wrk_output).group(1))  # type: ignore[union-attr]


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> dict[str, float]:
    """One wrk run on one thread: requests/s, p99 latency in ms, non-2xx/3xx answers."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": _requests_per_s(out),
        "p99_ms": p99_ms,
        "non2xx": float(errors.group(1)) if errors else 0.0,
    }


def miss_burst(
    work: Path,
    port: int,
    event_id: int,
    grid: TileGrid,
    cached_url: str,
    seconds: int,
    connections: int,
) -> dict[str, float]:
    """wrk on one cached tile while a second wrk walks 2x tiles never asked for before."""
    z = grid.max_zoom
    nx, ny = grid.tile_count(z)
    script = work / "misses.lua"
    script.write_text(MISSES_SCRIPT.format(nx=nx, ny=ny, event_id=event_id, z=z))
    misses = subprocess.Popen(
        ["wrk", "-t1", "-c4", f"-d{seconds}s", "-s", str(script), f"http://127.0.0.1:{port}/"],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)
    cached = wrk(cached_url, max(2, seconds - 1), connections)
    out, _ = misses.communicate()
    return {
        "cached_rps": cached["rps"],
        "cached_p99_ms": cached["p99_ms"],
        "miss_rps": _requests_per_s(out),
    }
