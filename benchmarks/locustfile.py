"""On-sale buyers for locust: look at the map, watch it live, hold seats, buy most of them.

Each journey is a new buyer behind their own (forwarded) address:

1. create a session; open the event's TileJSON;
2. fetch the tiles one screen needs at the overview zoom (phone or desktop screen);
3. open the live stream (a light SSE client in its own greenlet, kept open for
   the journey, which times how long the buyer's own hold takes to show up);
4. fetch the tiles around the block they like at the seat-detail zoom
   (revalidating with If-None-Match tiles this user has seen before);
5. hold 1-6 seats: pick them in a row of that block, or ask for best-available;
   on 409/422 try once more elsewhere, then fall back to best-available;
6. after a checkout pause, confirm most holds (operator key, one Idempotency-Key
   per sale; 10% extend first), release some, and walk away from the rest so
   they expire.

Pauses are people's: 2-5 s on each map view, 4-12 s of checkout, 3-10 s before
the next buyer on the same user; a journey takes about 20 s, about 24 requests.

409, 422 and 429 are expected answers in an on-sale and count as successes; any
other non-2xx/304 answer is an error. Every hold and sale is appended to a JSON
lines log so that `benchmarks/onsale.py` can audit PostgreSQL and Redis
against what buyers were told.

Environment (set by benchmarks/onsale.py):
  SEATMAP_LOAD_PLAN   JSON file: event id, pyramid geometry, blocks of seats
  SEATMAP_LOAD_LOG    JSON lines file to append holds and sales to
  SEATMAP_API_KEY     operator key used to confirm sales
  SEATMAP_LOAD_THINK  multiplier of every think time (default 1; --quick uses less)

The plan is read by onsale_plan, the log written by onsale_log and the live
stream read by onsale_stream, imported from this file's folder: locust puts it
on sys.path while it imports this file.
"""

from __future__ import annotations

import math
import os
import random
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import gevent
from geventhttpclient.response import HTTPConnectionClosed
from locust import FastHttpUser, between, events, task
from locust.env import Environment
from onsale_log import BuyerLog
from onsale_plan import Block, load_plan
from onsale_stream import LiveStream

TILE_PX = 256
EXPECTED = {409, 422, 429}
SCREENS = ((390, 844), (390, 844), (412, 915), (1440, 900), (1920, 1080))
# Pauses longer than this may outlast the server's 5 s keep-alive once a busy machine adds
# its own delays on both sides.
KEEPALIVE_SAFE_S = 2.5

PLAN = load_plan(os.environ.get("SEATMAP_LOAD_PLAN"))
EVENT_ID = PLAN.event_id
API_KEY = os.environ.get("SEATMAP_API_KEY", "")
THINK = float(os.environ.get("SEATMAP_LOAD_THINK", "1"))
LOG = BuyerLog(os.environ.get("SEATMAP_LOAD_LOG"))


@events.quitting.add_listener  # type: ignore[untyped-decorator]
def _close_log(environment: Environment, **_: Any) -> None:
    """Leave the status counts next to the log and close it."""
    LOG.close()


class Buyer(FastHttpUser):
    """One person after another buying tickets from the same browser and address."""

    wait_time = between(3.0 * THINK, 10.0 * THINK)
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        """Pick this user's address and screen; its tile cache lasts across journeys."""
        octets = (random.randint(0, 255), random.randint(0, 255), random.randint(1, 254))
        self.address = "10.{}.{}.{}".format(*octets)
        self.screen = random.choice(SCREENS)
        self.etags: dict[str, str] = {}
        self.tile_template = ""
        self.max_zoom = PLAN.max_zoom

    def think(self, low_s: float, high_s: float) -> None:
        """Pause like a person would (scaled by SEATMAP_LOAD_THINK).

        Before a long pause the idle connections are dropped, as a browser does when the
        server closes them (uvicorn's keep-alive is 5 s): it opens new ones afterwards.
        """
        pause_s = random.uniform(low_s, high_s) * THINK
        if pause_s > KEEPALIVE_SAFE_S:
            self.client.client.close()
        gevent.sleep(pause_s)

    # -- HTTP helpers -------------------------------------------------------------------

    def _call(
        self, method: str, path: str, name: str, *, expected: set[int] | None = None, **kw: Any
    ) -> tuple[int, Any, Any]:
        """One request: 2xx/304 and `expected` statuses are successes. (status, json, headers).

        Like a browser, it resends once, on a new connection, a request whose reused
        connection the server closed for idling (it never reached the application);
        that first try is counted apart, under "... (idle connection, resent)".
        """
        headers = {"X-Forwarded-For": self.address, **kw.pop("headers", {})}
        for attempt in range(2):
            with self.client.request(
                method, path, name=name, headers=headers, catch_response=True, **kw
            ) as response:
                status = response.status_code
                error = getattr(response, "error", None)
                if status == 0 and attempt == 0 and isinstance(error, HTTPConnectionClosed):
                    response.request_meta["name"] = f"{name} (idle connection, resent)"
                    response.success()
                    self.client.client.close()
                    continue
                LOG.count_status(name, status)
                body: Any = None
                content_type = response.headers.get("content-type", "") if response.headers else ""
                if "json" in content_type:
                    try:
                        body = response.json()
                    except ValueError:
                        body = None
                if 200 <= status < 300 or status == 304 or status in (expected or set()):
                    response.success()
                else:
                    detail = body.get("error") if isinstance(body, dict) else ""
                    response.failure(f"{status} {detail or repr(error)}".strip())
                return status, body, response.headers
        raise AssertionError("unreachable: the second attempt always returns")

    def _tiles(self, z: int, cx0: float, cy0: float) -> None:
        """Fetch the tiles one screen shows at zoom z, centred on zoom-0 pixel (cx0, cy0)."""
        width, height = self.screen
        scale = 2**z
        world_w = math.ceil(PLAN.world_px0[0] * scale)
        world_h = math.ceil(PLAN.world_px0[1] * scale)
        nx, ny = max(1, math.ceil(world_w / TILE_PX)), max(1, math.ceil(world_h / TILE_PX))
        cx, cy = cx0 * scale, cy0 * scale
        x0 = max(0, math.floor((cx - width / 2) / TILE_PX))
        x1 = min(nx - 1, math.floor((cx + width / 2 - 1) / TILE_PX))
        y0 = max(0, math.floor((cy - height / 2) / TILE_PX))
        y1 = min(ny - 1, math.floor((cy + height / 2 - 1) / TILE_PX))
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                path = self.tile_template.replace("{z}", str(z))
                path = path.replace("{x}", str(x)).replace("{y}", str(y))
                headers = {"If-None-Match": self.etags[path]} if path in self.etags else {}
                status, _, resp_headers = self._call("GET", path, f"tile z{z}", headers=headers)
                etag = resp_headers.get("etag") if resp_headers is not None else None
                if status == 200 and etag:
                    self.etags[path] = etag

    def _overview_zoom(self) -> int:
        """The largest zoom at which the whole venue fits this screen."""
        width, height = self.screen
        fit = min(width / PLAN.world_px0[0], height / PLAN.world_px0[1])
        return max(0, min(self.max_zoom, math.floor(math.log2(max(fit, 1e-9)))))

    # -- the journey --------------------------------------------------------------------

    @task
    def journey(self) -> None:
        """One buyer, from opening the map to a sale, a release or an abandoned hold."""
        # A new buyer opens new connections. Reusing one idle for longer than the server's
        # keep-alive (uvicorn: 5 s) races its close, which browsers paper over by retrying.
        self.client.client.close()
        status, body, _ = self._call("POST", "/sessions", "/sessions", expected={429}, json={})
        if status != 201 or not isinstance(body, dict):
            return
        token = body["token"]
        buyer = body.get("buyer_id", "")
        auth = {"Authorization": f"Bearer {token}"}

        status, tilejson, _ = self._call(
            "GET", f"/events/{EVENT_ID}/tiles.json", "/events/[id]/tiles.json"
        )
        if status != 200 or not isinstance(tilejson, dict):
            return
        self.tile_template = urlsplit(tilejson["tiles"][0]).path
        self.max_zoom = int(tilejson.get("maxzoom", self.max_zoom))

        self._tiles(self._overview_zoom(), PLAN.world_px0[0] / 2, PLAN.world_px0[1] / 2)
        headers = {"X-Forwarded-For": self.address}
        stream = LiveStream(self.environment, self.host or "", EVENT_ID, headers)
        stream.start()
        try:
            self.think(2.0, 5.0)
            block = PLAN.pick_block()
            detail_zoom = min(self.max_zoom, PLAN.detail_zoom)
            self._tiles(detail_zoom, block.cx0, block.cy0)
            self.think(2.0, 5.0)
            hold = self._hold(auth, block, buyer, stream)
            if hold is not None:
                self._finish(auth, hold, buyer)
        finally:
            stream.close()

    def _hold(
        self, auth: dict[str, str], block: Block, buyer: str, stream: LiveStream
    ) -> dict[str, Any] | None:
        """Hold 1-6 seats; up to three tries. The accepted hold, or None."""
        count = random.choices((1, 2, 3, 4, 5, 6), weights=(8, 35, 15, 25, 7, 10))[0]
        for attempt in range(3):
            use_best = attempt == 2 or random.random() < 0.3
            if use_best:
                wanted: dict[str, Any] = {"count": count}
                if random.random() < 0.5:
                    wanted["section"] = random.choice(PLAN.popular_sections)
                path, name = f"/events/{EVENT_ID}/best-available", "/events/[id]/best-available"
            else:
                ids = block.ids
                start = random.randint(0, max(0, len(ids) - count))
                wanted = {"seats": ids[start : start + count]}
                path, name = f"/events/{EVENT_ID}/holds", "/events/[id]/holds"
            asked_at = time.perf_counter()
            status, body, _ = self._call(
                "POST", path, name, expected=EXPECTED, json=wanted, headers=auth
            )
            if status == 201 and isinstance(body, dict):
                seats = [int(s["index"]) for s in body["seats"]]
                stream.watch(seats, asked_at)
                LOG.record(
                    kind="hold", buyer=buyer, hold=body["hold_token"], fencing=body["fencing"],
                    seats=seats, expires_at=body.get("expires_at"),
                )  # fmt: skip
                return body
            if status == 429:
                return None
            block = PLAN.pick_block()
        return None

    def _finish(self, auth: dict[str, str], hold: dict[str, Any], buyer: str) -> None:
        """Confirm (most), release (some) or abandon (the rest) a hold."""
        hold_path = f"/events/{EVENT_ID}/holds/{hold['hold_token']}"
        seats = [int(s["index"]) for s in hold["seats"]]
        fate = random.random()
        if fate < 0.10:
            self.think(3.0, 8.0)
            self._call("POST", f"{hold_path}/extend", "/events/[id]/holds/[token]/extend",
                       headers=auth, json={})  # fmt: skip
            self.think(2.0, 4.0)
        else:
            self.think(4.0, 12.0)  # checkout: payment details, then the box office confirms
        if fate < 0.78:
            key = str(uuid.uuid4())
            headers = {"X-API-Key": API_KEY, "Idempotency-Key": key}
            for _ in range(2):  # a box office retries a failed call once, same key
                status, body, resp_headers = self._call(
                    "POST", f"{hold_path}/confirm", "/events/[id]/holds/[token]/confirm",
                    headers=headers, json={},
                )  # fmt: skip
                if status in (200, 201) and isinstance(body, dict):
                    LOG.record(
                        kind="sale", buyer=buyer, hold=hold["hold_token"],
                        fencing=hold["fencing"], seats=seats, key=key,
                        order=body.get("order_id", body.get("id")),
                    )  # fmt: skip
                    return
                if status != 503:
                    return
                retry = resp_headers.get("retry-after", "1") if resp_headers is not None else "1"
                gevent.sleep(min(5.0, float(retry) if retry.isdigit() else 1.0))
        elif fate < 0.88:
            status, _, _ = self._call(
                "DELETE", hold_path, "/events/[id]/holds/[token]", headers=auth
            )
            if status in (200, 204):
                LOG.record(kind="release", buyer=buyer, hold=hold["hold_token"], seats=seats)
        else:
            LOG.record(kind="abandon", buyer=buyer, hold=hold["hold_token"], seats=seats)
