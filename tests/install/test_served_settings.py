"""Every documented setting takes effect in `seatmap serve`, started the way users start it.

One server for the module: a child process with every SEATMAP_* variable of
the README set to something other than its default, on a database that has
no schema yet (serve migrates it at start-up), and stopped with SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import psutil
import pytest
import redis as syncredis

from lockservice.sessions import verify_token
from seatmap.errors import Unauthorized
from seatmap.formats.native import write_native
from seatmap.generator import generate_venue
from tests.conftest import REDIS_URL, new_database, pg_connection
from tests.install.served import ServedApp, clean_environ

API_KEY = "served-operator-key"
SESSION_SECRET = "served-session-secret"
HOLD_TTL_S = 12
MAX_HOLD_S = 20
MAX_BODY_BYTES = 2048
WORKERS = 2


class Served:
    """The running server, its settings and the events made on it."""

    def __init__(self, app: ServedApp, env: dict[str, str], data_dir: Path) -> None:
        self.app = app
        self.env = env
        self.data_dir = data_dir
        self.client = httpx.Client(base_url=app.url, timeout=60)
        self.operator = {"X-API-Key": API_KEY}
        self.event_id = 0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`seatmap serve` with every documented setting changed, and one event made over HTTP."""
    home = tmp_path_factory.mktemp("served")
    data_dir = home / "data"
    with new_database() as dsn:
        env = {
            "SEATMAP_DATABASE_URL": dsn,
            "SEATMAP_REDIS_URL": REDIS_URL,
            "SEATMAP_REDIS_PREFIX": f"served-{uuid.uuid4().hex[:8]}:",
            "SEATMAP_DATA_DIR": str(data_dir),
            "SEATMAP_API_KEY": API_KEY,
            "SEATMAP_SESSION_SECRET": SESSION_SECRET,
            "SEATMAP_WORKERS": str(WORKERS),
            "SEATMAP_HOLD_TTL_S": str(HOLD_TTL_S),
            "SEATMAP_MAX_HOLD_S": str(MAX_HOLD_S),
            "SEATMAP_TILE_CACHE_MB": "16",
            "SEATMAP_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
            "SEATMAP_LOG_JSON": "0",
            "SEATMAP_ACCESS_LOG": "1",
        }
        command = [sys.executable, "-m", "seatmap_app.cli", "serve"]
        app = ServedApp(command, env, cwd=home, log_path=home / "serve.log").start()
        served = Served(app, {**env, **app.env}, data_dir)
        try:
            venue_file = home / "hall.json"
            write_native(generate_venue("theater", 300, 1), venue_file)
            venue = served.client.post(
                "/venues", content=venue_file.read_bytes(), headers=served.operator
            )
            assert venue.status_code == 201, venue.text
            event = served.client.post(
                "/events",
                json={
                    "venue_id": venue.json()["id"],
                    "title": "Served night",
                    "settings": {"no_orphans": False, "restrict_accessible": False},
                },
                headers=served.operator,
            )
            assert event.status_code == 201, event.text
            served.event_id = event.json()["id"]
            yield served
        finally:
            served.client.close()
            app.stop()
            _delete_keys(env["SEATMAP_REDIS_PREFIX"])


def _delete_keys(prefix: str) -> None:
    client = syncredis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def test_host_and_port_are_where_it_listens(served: Served) -> None:
    host, port = served.env["SEATMAP_HOST"], served.env["SEATMAP_PORT"]
    assert httpx.get(f"http://{host}:{port}/healthz", timeout=5).status_code == 200


def test_workers_start_that_many_server_processes(served: Served) -> None:
    assert served.app.proc is not None
    children = psutil.Process(served.app.proc.pid).children()
    workers = [p for p in children if "spawn_main" in " ".join(p.cmdline())]
    assert len(workers) == WORKERS


def test_database_url_gets_the_schema_and_the_events(served: Served) -> None:
    async def titles() -> list[str]:
        async with pg_connection(served.env["SEATMAP_DATABASE_URL"]) as conn:
            return [r["title"] for r in await conn.fetch("SELECT title FROM events")]

    assert asyncio.run(titles()) == ["Served night"]


def test_redis_url_and_prefix_hold_the_live_state(served: Served) -> None:
    client = syncredis.Redis.from_url(served.env["SEATMAP_REDIS_URL"])
    try:
        keys = list(client.scan_iter(match=served.env["SEATMAP_REDIS_PREFIX"] + "*", count=1000))
    finally:
        client.close()
    assert any(f"{served.event_id}" in key.decode() for key in keys), keys


def test_data_dir_holds_the_rendered_tiles(served: Served) -> None:
    pyramids = [p for p in (served.data_dir / "tiles").iterdir() if p.is_dir()]
    assert pyramids and any(any(p.rglob("*")) for p in pyramids)


def test_api_key_guards_the_operator_routes(served: Served) -> None:
    assert served.client.get("/venues", headers={"X-API-Key": "wrong"}).status_code == 401
    assert served.client.get("/venues", headers=served.operator).status_code == 200


def test_session_secret_signs_buyer_tokens(served: Served) -> None:
    token = served.client.post("/sessions").json()["token"]
    now_ms = int(time.time() * 1000)
    assert verify_token(SESSION_SECRET, token, now_ms).buyer_id
    with pytest.raises(Unauthorized):
        verify_token("another-secret", token, now_ms)


def test_hold_settings_reach_events_made_over_http_and_the_cli(served: Served) -> None:
    over_http = served.client.get("/events").json()[0]["settings"]
    assert (over_http["hold_ttl_s"], over_http["max_hold_s"]) == (HOLD_TTL_S, MAX_HOLD_S)
    assert over_http["no_orphans"] is False  # the event's own setting wins
    venue_id = served.client.get("/venues", headers=served.operator).json()[0]["id"]
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "seatmap_app.cli",
            "create-event",
            "--venue",
            str(venue_id),
            "--title",
            "CLI night",
            "--no-render",
        ],
        env=clean_environ(served.env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    by_id = {e["id"]: e for e in served.client.get("/events").json()}
    rules = by_id[int(made.stdout)]["settings"]
    assert (rules["hold_ttl_s"], rules["max_hold_s"]) == (HOLD_TTL_S, MAX_HOLD_S)


@pytest.mark.slow
def test_a_hold_lasts_the_configured_hold_time(served: Served) -> None:
    event = served.event_id
    seat = served.client.get(f"/events/{event}/seats/0")
    assert seat.status_code == 200, seat.text
    label = seat.json()["label"]
    token = served.client.post("/sessions").json()["token"]
    held = served.client.post(
        f"/events/{event}/holds",
        json={"seats": [label]},
        headers={"Authorization": f"Bearer {token}"},
    )
    held_at = time.monotonic()
    assert held.status_code == 201, held.text
    hold = held.json()
    lasts = datetime.fromisoformat(hold["expires_at"]) - datetime.fromisoformat(hold["created_at"])
    assert lasts.total_seconds() == pytest.approx(HOLD_TTL_S, abs=0.01)
    status = "held"
    while status == "held" and time.monotonic() - held_at < HOLD_TTL_S + 8:
        time.sleep(0.25)
        status = served.client.get(f"/events/{event}/seats/0").json()["status"]
    assert status == "available"
    assert HOLD_TTL_S - 1 <= time.monotonic() - held_at <= HOLD_TTL_S + 8


def test_max_body_bytes_limits_request_bodies(served: Served) -> None:
    token = served.client.post("/sessions").json()["token"]
    body = json.dumps({"seats": ["x" * 40] * 60})
    assert len(body) > MAX_BODY_BYTES
    response = served.client.post(
        f"/events/{served.event_id}/holds",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_log_settings_give_plain_lines_with_access_lines(served: Served) -> None:
    for _ in range(3):
        served.client.get("/healthz")
    time.sleep(0.3)
    lines = served.app.log().splitlines()
    access = [line for line in lines if re.search(r" INFO seatmap\.access: request$", line)]
    assert len(access) >= 3
    assert not any(line.startswith("{") for line in lines)


def test_sigterm_stops_the_server_cleanly(served: Served) -> None:
    assert served.app.stop() == 0
    assert "Traceback" not in served.app.log()
