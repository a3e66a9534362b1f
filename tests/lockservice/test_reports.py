"""Operator reports: status and sales per section, category and price, and the sold-seat
listing, checked against PostgreSQL, against their own totals, between CSV and JSON,
streamed on a large event, refused without the key or with bad parameters, and from the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from starlette.requests import ClientDisconnect

from lockservice.reconcile import reconcile_event
from lockservice.reports_sql import SOLD_SEATS_SQL
from seatmap.context import EventView, ServiceContext
from seatmap.generator import generate_venue
from tests.conftest import API_KEY_HEADER
from tests.lockservice.conftest import (
    buyer_token,
    confirm_headers,
    hold_over_http,
    new_event,
    operator_action,
)
from tests.seatmap.test_cli import run_cli
from tests.venues import store_event

KINDS = ("status", "sales")
BY = ("section", "category", "price")
STATUSES = ("available", "held", "sold", "blocked", "confirming")
# The SQL key of each grouping, to sum sales independently of the report's own query.
SQL_GROUP = {"section": "sec.name", "category": "c.name", "price": "c.price_cents::text"}
NAME_COLUMN = {"section": "section", "category": "category", "price": "price_cents"}
# The column that says TOTAL on a CSV report's totals row.
TOTAL_COLUMN = {"section": "section", "category": "category", "price": "price"}


async def _busy_event(ctx: ServiceContext, api: httpx.AsyncClient) -> EventView:
    """An event with a hold, two sales over both sections and categories, and two blocks."""
    view = await new_event(ctx)
    base = f"/events/{view.event.id}"
    holder, _ = buyer_token(ctx.settings)
    await hold_over_http(api, view, holder, ["101-B-3", "101-B-4"])
    for n, seats in enumerate(
        (["101-C-1", "101-C-2", "101-C-3", "101-C-4"], ["102-B-1", "102-B-2", "102-E-1", "102-E-2"])
    ):
        buyer, _ = buyer_token(ctx.settings)
        hold = await hold_over_http(api, view, buyer, seats)
        sold = await api.post(
            f"{base}/holds/{hold['hold_token']}/confirm", headers=confirm_headers(f"rep-{n}")
        )
        assert sold.status_code == 201, sold.text
    blocked = await operator_action(api, view, "block", ["101-F-12", "102-F-12"])
    assert blocked.status_code == 200
    return view


async def _report(api: httpx.AsyncClient, view: EventView, kind: str, **query: str) -> Any:
    reply = await api.get(
        f"/events/{view.event.id}/reports/{kind}", params=query, headers=API_KEY_HEADER
    )
    assert reply.status_code == 200, reply.text
    return reply


async def _sql_sales(ctx: ServiceContext, event_id: int, by: str) -> dict[str, tuple[int, int]]:
    """Seats sold and revenue per group name, summed by PostgreSQL in a query of its own."""
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {SQL_GROUP[by]} AS name, count(*) AS n, sum(c.price_cents) AS cents "
            "FROM sales x JOIN events e ON e.id = x.event_id "
            "JOIN seats s ON s.venue_id = e.venue_id AND s.seat_index = x.seat_index "
            "JOIN sections sec ON sec.venue_id = s.venue_id "
            "AND sec.section_index = s.section_index "
            "JOIN categories c ON c.venue_id = s.venue_id AND c.category_index = s.category_index "
            "WHERE x.event_id = $1 GROUP BY 1",
            event_id,
        )
    return {str(r["name"]): (r["n"], int(r["cents"])) for r in rows}


async def test_status_and_sales_totals_match_postgresql_and_their_groups(
    ctx: ServiceContext, api: httpx.AsyncClient
) -> None:
    view = await _busy_event(ctx, api)
    event_id = view.event.id
    async with ctx.pool.acquire() as conn:
        sold = await conn.fetchval("SELECT count(*) FROM sales WHERE event_id = $1", event_id)
        blocked = await conn.fetchval(
            "SELECT count(*) FROM blocked_seats WHERE event_id = $1", event_id
        )
        order_cents = await conn.fetchval(
            "SELECT sum(total_cents) FROM orders WHERE event_id = $1", event_id
        )
    held = sum(
        len(h["seats"])
        for h in (await api.get(f"/events/{event_id}/holds", headers=API_KEY_HEADER)).json()[
            "holds"
        ]
    )
    assert (sold, blocked, held) == (8, 2, 2)
    seat_count = view.venue.seat_count
    for by in BY:
        status = (await _report(api, view, "status", by=by)).json()
        totals = status["totals"]
        assert totals == {
            "seats": seat_count, "available": seat_count - 12, "held": held, "sold": sold,
            "blocked": blocked, "confirming": 0,
        }
        for column in ("seats", *STATUSES):
            assert sum(g[column] for g in status["groups"]) == totals[column], (by, column)
        assert all(g["seats"] == sum(g[s] for s in STATUSES) for g in status["groups"])

        sales = (await _report(api, view, "sales", by=by)).json()
        expected = await _sql_sales(ctx, event_id, by)
        got = {
            str(g[NAME_COLUMN[by]]): (g["seats_sold"], g["revenue_cents"])
            for g in sales["groups"] if g["seats_sold"]
        }
        assert got == expected, by
        assert sales["totals"]["seats_sold"] == sold == sum(n for n, _ in expected.values())
        assert sales["totals"]["revenue_cents"] == order_cents == sum(
            g["revenue_cents"] for g in sales["groups"]
        )
        cents = sales["totals"]["revenue_cents"]
        assert sales["totals"]["revenue"] == f"{cents // 100}.{cents % 100:02d}"
    # 4 standard seats in 101, 2 premium and 2 standard in 102: (4 + 2) * 50 + 2 * 80.
    assert order_cents == 46_000
    by_section = (await _report(api, view, "status", by="section")).json()["groups"]
    assert [(g["section"], g["held"], g["sold"], g["blocked"]) for g in by_section] == [
        ("101", 2, 4, 1), ("102", 0, 4, 1)
    ]


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _as_text(row: dict[str, Any]) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in row.items()}


async def test_csv_and_json_say_the_same_and_json_matches_the_documented_schema(
    ctx: ServiceContext, api: httpx.AsyncClient
) -> None:
    view = await _busy_event(ctx, api)
    doc = (await api.get("/openapi.json")).json()
    for kind in KINDS:
        for by in BY:
            as_json = await _report(api, view, kind, by=by, format="json")
            as_csv = await _report(api, view, kind, by=by, format="csv")
            assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
            assert as_csv.headers["content-disposition"] == (
                f'attachment; filename="event-{view.event.id}-{kind}-by-{by}.csv"'
            )
            body = as_json.json()
            rows = _csv_rows(as_csv.text)
            assert list(rows[0]) == list(body["groups"][0]), (kind, by)  # same columns, order
            assert rows[:-1] == [_as_text(g) for g in body["groups"]], (kind, by)
            total = rows[-1]
            assert total[TOTAL_COLUMN[by]] == "TOTAL"
            assert {k: v for k, v in total.items() if k in body["totals"]} == _as_text(
                body["totals"]
            )
            operation = doc["paths"][f"/events/{{event_id}}/reports/{kind}"]["get"]
            content = operation["responses"]["200"]["content"]
            assert set(content) == {"application/json", "text/csv"}
            schema = {**content["application/json"]["schema"], "components": doc["components"]}
            jsonschema.validate(body, schema)
    # Without `format`, Accept decides; `format` wins over Accept.
    negotiated = await _report(api, view, "sales", by="price")
    assert negotiated.headers["content-type"] == "application/json"
    url = f"/events/{view.event.id}/reports/sales"
    wants_csv = {**API_KEY_HEADER, "Accept": "text/csv"}
    assert (await api.get(url, headers=wants_csv)).headers["content-type"].startswith("text/csv")
    forced = await api.get(url, params={"format": "json"}, headers=wants_csv)
    assert forced.headers["content-type"] == "application/json"
    # The sold-seat listing: the same seats in both formats, every price from its category.
    listed_csv = _csv_rows((await _report(api, view, "sold-seats", format="csv")).text)
    listed_json = (await _report(api, view, "sold-seats")).json()
    assert listed_json["event_id"] == view.event.id
    assert listed_csv == [_as_text(s) for s in listed_json["seats"]]
    schema = doc["paths"]["/events/{event_id}/reports/sold-seats"]["get"]["responses"]["200"]
    jsonschema.validate(
        listed_json, {**schema["content"]["application/json"]["schema"],
                      "components": doc["components"]}
    )
    assert sorted(s["label"] for s in listed_json["seats"]) == sorted(
        ["101-C-1", "101-C-2", "101-C-3", "101-C-4", "102-B-1", "102-B-2", "102-E-1", "102-E-2"]
    )
    assert {(s["label"][:5], s["price_cents"], s["price"]) for s in listed_json["seats"]} == {
        ("101-C", 5000, "50.00"), ("102-B", 8000, "80.00"), ("102-E", 5000, "50.00")
    }
    assert [s["order_id"] for s in listed_json["seats"]] == sorted(
        s["order_id"] for s in listed_json["seats"]
    )
    assert all(s["sold_at"].endswith("Z") for s in listed_json["seats"])


async def test_bad_parameters_are_refused_naming_the_field(
    ctx: ServiceContext, api: httpx.AsyncClient
) -> None:
    view = await new_event(ctx)
    base = f"/events/{view.event.id}/reports"
    for url, params, field in (
        (f"{base}/status", {"by": "row"}, "by"),
        (f"{base}/sales", {"by": ""}, "by"),
        (f"{base}/sales", {"format": "xml"}, "format"),
        (f"{base}/status", {"by": "section", "format": "CSV "}, "format"),
        (f"{base}/sold-seats", {"format": "pdf"}, "format"),
    ):
        reply = await api.get(url, params=params, headers=API_KEY_HEADER)
        assert reply.status_code == 400, (url, params, reply.text)
        assert reply.json()["field"] == field and field in reply.json()["detail"]
    missing = await api.get("/events/987654321/reports/sales", headers=API_KEY_HEADER)
    assert missing.status_code == 404
    garbled = await api.get("/events/%C2%B2/reports/status", headers=API_KEY_HEADER)
    assert garbled.status_code == 400


async def test_reports_need_the_operator_key(ctx: ServiceContext, api: httpx.AsyncClient) -> None:
    view = await new_event(ctx)
    for kind in ("status", "sales", "sold-seats"):
        url = f"/events/{view.event.id}/reports/{kind}?format=csv"
        for headers in ({}, {"X-API-Key": "not-the-key"}):
            reply = await api.get(url, headers=headers)
            assert reply.status_code == 401, (kind, headers)
            assert reply.json()["error"] == "unauthorized"


async def _sell_in_bulk(ctx: ServiceContext, event_id: int, seats: list[int], orders: int) -> None:
    """Orders and sales written straight to PostgreSQL (each order priced as a confirm would)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        order_ids = [
            r[0] for r in await conn.fetch(
                "INSERT INTO orders (event_id, idempotency_key, request_hash, buyer_id, fencing, "
                "total_cents) SELECT $1, 'bulk-' || g, 'h', 'bulk-buyer-' || g, g, 0 "
                "FROM generate_series(1, $2) g ORDER BY g RETURNING id",
                event_id, orders,
            )
        ]
        per_order = -(-len(seats) // orders)
        await conn.execute(
            "INSERT INTO sales (event_id, seat_index, order_id, fencing) "
            "SELECT $1, s, o, 1 FROM unnest($2::int[], $3::bigint[]) AS t(s, o)",
            event_id, seats, [order_ids[i // per_order] for i in range(len(seats))],
        )
        await conn.execute(
            "UPDATE orders o SET total_cents = t.cents FROM ("
            " SELECT x.order_id, sum(c.price_cents) AS cents FROM sales x"
            " JOIN events e ON e.id = x.event_id"
            " JOIN seats s ON s.venue_id = e.venue_id AND s.seat_index = x.seat_index"
            " JOIN categories c ON c.venue_id = s.venue_id AND c.category_index = s.category_index"
            " WHERE x.event_id = $1 GROUP BY x.order_id) t WHERE o.id = t.order_id",
            event_id,
        )


async def _stream(
    app: Any, path: str, keep: bool = True, leave_after: int | None = None
) -> tuple[int, list[int], bytes]:
    """Call the ASGI app directly: the status, each body message's size, and the body
    (unless `keep` is false: then nothing of it is held). With `leave_after`, the
    client goes away after that many body messages (sending raises OSError)."""
    sizes: list[int] = []
    parts: list[bytes] = []
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never goes away
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and message.get("body"):
            if leave_after is not None and len(sizes) == leave_after:
                raise OSError("the client went away")
            sizes.append(len(message["body"]))
            if keep:
                parts.append(message["body"])

    path, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": query.encode(), "root_path": "", "client": ("10.9.0.1", 40000),
        "server": ("lock", 80),
        "headers": [(b"host", b"lock"), (b"x-api-key", API_KEY_HEADER["X-API-Key"].encode())],
    }
    try:
        await app(scope, receive, send)
    except (OSError, ClientDisconnect):
        if leave_after is None:
            raise
    return status, sizes, b"".join(parts)


@pytest.mark.slow
async def test_sold_seat_listing_of_a_large_event_streams_in_batches(
    ctx: ServiceContext, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    venue = generate_venue("arena", 24_000, seed=5)
    event_id = await store_event(ctx, venue, title="Big Night")
    sold = [i for i in range(venue.seat_count) if i % 4 != 3]  # 18,000 of 24,000 seats
    await _sell_in_bulk(ctx, event_id, sold, orders=600)
    await reconcile_event(ctx, event_id)
    view = await ctx.catalog.get(event_id)
    app = api.app  # type: ignore[attr-defined]
    path = f"/events/{event_id}/reports/sold-seats?format=csv"
    status, _, body = await _stream(app, path)  # also warms up the pool and the statement
    tracemalloc.start()
    try:
        _, sizes, _ = await _stream(app, path, keep=False)
        _, streamed_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        async with ctx.pool.acquire() as conn:
            everything = await conn.fetch(SOLD_SEATS_SQL, event_id)
        _, at_once_peak = tracemalloc.get_traced_memory()
        del everything
    finally:
        tracemalloc.stop()
    print(f"streamed {len(body)} bytes in {len(sizes)} chunks: peak {streamed_peak} bytes "
          f"(all rows fetched at once: {at_once_peak})")
    assert status == 200
    rows = _csv_rows(body.decode())
    assert len(rows) == len(sold) and sorted(int(r["seat_index"]) for r in rows) == sold
    # A header chunk, then one chunk per batch of 1000 rows.
    assert len(sizes) == 1 + len(sold) // 1000 and max(sizes) < len(body) / 8
    # The stream holds one batch at a time: a fraction of what fetching every row takes.
    assert streamed_peak < at_once_peak / 4, (streamed_peak, at_once_peak)
    async with ctx.pool.acquire() as conn:
        cents = int(await conn.fetchval(
            "SELECT sum(total_cents) FROM orders WHERE event_id = $1", event_id
        ))
    assert sum(int(r["price_cents"]) for r in rows) == cents
    sales = (await _report(api, view, "sales", by="price")).json()
    assert sales["totals"] == {"seats_sold": len(sold), "revenue_cents": cents,
                               "revenue": f"{cents // 100}.{cents % 100:02d}"}
    status_totals = (await _report(api, view, "status", by="category")).json()["totals"]
    assert status_totals["sold"] == len(sold) and status_totals["seats"] == 24_000
    # A client that leaves mid-stream gives its connection (and transaction) back at once.
    _, left, _ = await _stream(app, path, keep=False, leave_after=3)
    async with ctx.pool.acquire() as conn:
        reading = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state <> 'idle' "
            "AND query LIKE '%ORDER BY x.order_id%'"
        )
    assert len(left) == 3 and reading == 0


async def test_cli_writes_the_reports_the_api_serves(
    ctx: ServiceContext, api: httpx.AsyncClient, tmp_path: Path, redis_variant: str
) -> None:
    if redis_variant != "single":
        pytest.skip("the command line is run once, against single Redis")
    view = await _busy_event(ctx, api)
    event = str(view.event.id)
    out = tmp_path / "sales.csv"
    done = await asyncio.to_thread(
        run_cli, ctx.settings, "report", event, "--kind", "sales", "--by", "category",
        "--format", "csv", "--out", str(out),
    )
    assert done.returncode == 0, done.stderr
    served = await _report(api, view, "sales", by="category", format="csv")
    assert out.read_bytes() == served.content
    listed = await asyncio.to_thread(
        run_cli, ctx.settings, "report", event, "--kind", "sold-seats", "--format", "json"
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.encode() == (await _report(api, view, "sold-seats")).content
    status = await asyncio.to_thread(run_cli, ctx.settings, "report", event, "--by", "price")
    assert status.returncode == 0 and _csv_rows(status.stdout)[-1]["held"] == "2"
    unknown = await asyncio.to_thread(run_cli, ctx.settings, "report", "987654321",
                                      "--out", str(tmp_path / "none.csv"))
    assert unknown.returncode == 1 and len(unknown.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "none.csv").exists() and not list(tmp_path.glob(".*partial"))
