"""Bad input gets a 4xx JSON answer, never a 500; backends down give 503; rate limits 429."""

from __future__ import annotations

import httpx

from seatmap.context import ServiceContext, build_context
from seatmap.runtime import redis_client
from tests.lockservice.conftest import (
    API_KEY_HEADER,
    bearer,
    buyer_token,
    clocked,
    in_process_client,
    new_event,
    request_hold,
)


async def test_bad_requests_are_answered_with_4xx_json(
    ctx: ServiceContext, api: httpx.AsyncClient
) -> None:
    view = await new_event(ctx)
    token, _ = buyer_token(ctx.settings)
    holds_url = f"/events/{view.event.id}/holds"
    auth = bearer(token)
    cases: list[tuple[str, str, dict[str, str], bytes | None, int, str]] = [
        ("POST", holds_url, {}, b'{"seats": ["101-C-1"]}', 401, "unauthorized"),
        ("POST", holds_url, bearer("v1.x.1.y"), b'{"seats": ["101-C-1"]}', 401, "unauthorized"),
        ("POST", holds_url, {"Authorization": "Basic abc"}, b"{}", 401, "unauthorized"),
        ("POST", holds_url, auth, b'{"seats": [', 400, "bad_request"),
        ("POST", holds_url, auth, b"\xff\xfe", 400, "bad_request"),
        ("POST", holds_url, auth, b"[1, 2]", 400, "bad_request"),
        ("POST", holds_url, auth, b"{}", 400, "bad_request"),
        ("POST", holds_url, auth, b'{"seats": [{"a": 1}]}', 400, "bad_request"),
        ("POST", holds_url, auth, b'{"seats": ["101-C-1"], "accessible": 1}', 400, "bad_request"),
        ("POST", holds_url, auth, b'{"seats": ["nope", "101-C-1"]}', 422, "unknown_seats"),
        ("POST", holds_url, auth, b'{"seats": [99999]}', 422, "unknown_seats"),
        ("POST", holds_url, auth, b'{"seats": ["101-C-1", "s1-C-1"]}', 422, "unprocessable"),
        ("POST", holds_url, auth, b'{"seats": [' + b'"x",' * 100 + b'"y"]}', 400, "bad_request"),
        ("POST", holds_url, auth, b'{"seats": "' + b"x" * 70_000 + b'"}', 413, "payload_too_large"),
        ("POST", "/events/999999/holds", auth, b'{"seats": ["a"]}', 404, "not_found"),
        ("POST", f"/events/{2**70}/holds", auth, b'{"seats": ["a"]}', 400, "bad_request"),
        ("GET", f"/events/{2**70}/stream", {}, None, 404, "not_found"),
        ("GET", f"{holds_url}/..%2f..%2fetc", auth, None, 404, "not_found"),
        ("GET", f"{holds_url}/short", auth, None, 404, "hold_not_found"),
        (
            "POST",
            f"/events/{view.event.id}/best-available",
            auth,
            b'{"count": 0}',
            400,
            "bad_request",
        ),
        (
            "POST",
            f"/events/{view.event.id}/best-available",
            auth,
            b'{"count": 9}',
            422,
            "max_seats_per_buyer",
        ),
        (
            "POST",
            f"/events/{view.event.id}/best-available",
            auth,
            b'{"count": 2, "category": "gold"}',
            422,
            "unprocessable",
        ),
        (
            "POST",
            f"/events/{view.event.id}/block",
            {},
            b'{"seats": ["101-C-1"]}',
            401,
            "unauthorized",
        ),
        ("GET", f"/events/{view.event.id}/holds", {}, None, 401, "unauthorized"),
        ("GET", f"/events/{view.event.id}/holds?limit=0", API_KEY_HEADER, None, 400, "bad_request"),
        (
            "GET",
            f"/events/{view.event.id}/stats",
            {"X-API-Key": "wrong"},
            None,
            401,
            "unauthorized",
        ),
    ]
    for method, url, headers, body, status, code in cases:
        reply = await api.request(method, url, headers=headers, content=body)
        assert reply.status_code == status, (method, url, body and body[:60], reply.text)
        assert reply.headers["content-type"] == "application/json"
        assert reply.json()["error"] == code, (url, reply.text)


async def test_redis_down_gives_503_with_retry_after(ctx: ServiceContext) -> None:
    view = await new_event(ctx)
    dead = redis_client("redis://127.0.0.1:1/0")
    down = build_context(ctx.settings, ctx.pool, dead)
    token, _ = buyer_token(ctx.settings)
    try:
        async with in_process_client(down) as api:
            for method, url, body in (
                ("POST", f"/events/{view.event.id}/holds", b'{"seats": ["101-C-1", "101-C-2"]}'),
                ("POST", "/sessions", None),
                ("GET", f"/events/{view.event.id}/status.bin", None),
            ):
                reply = await api.request(method, url, headers=bearer(token), content=body)
                assert reply.status_code == 503, reply.text
                assert reply.headers["retry-after"]
                assert reply.json()["error"] == "service_unavailable"
    finally:
        await dead.aclose()


async def test_session_creation_is_rate_limited_per_ip(ctx: ServiceContext) -> None:
    clock, fctx = clocked(ctx)
    limit = ctx.settings.rate_limit_sessions_per_min
    async with in_process_client(fctx, client_ip="10.77.0.1") as api:
        for _ in range(limit):
            made = await api.post("/sessions")
            assert made.status_code == 201
        body = made.json()
        assert {"token", "buyer_id", "expires_at"} <= body.keys()
        assert len(body["buyer_id"]) >= 22  # 128 random bits, URL-safe base64
        refused = await api.post("/sessions")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"] == "rate_limited"
        clock.advance(60_000 // limit)
        assert (await api.post("/sessions")).status_code == 201
    async with in_process_client(fctx, client_ip="10.77.0.2") as other:
        assert (await other.post("/sessions")).status_code == 201


async def test_hold_attempts_are_rate_limited_per_buyer(ctx: ServiceContext) -> None:
    clock, fctx = clocked(ctx)
    view = await new_event(fctx)
    token, _ = buyer_token(ctx.settings, clock.ms)
    limit = ctx.settings.rate_limit_holds_per_min
    async with in_process_client(fctx, client_ip="10.78.0.1") as api:
        codes = [
            (await request_hold(api, view, token, ["101-C-2"])).status_code for _ in range(limit)
        ]
        assert set(codes) == {422}  # each attempt breaks the orphan rule, and counts
        refused = await request_hold(api, view, token, ["101-C-2"])
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        other, _ = buyer_token(ctx.settings, clock.ms)
        allowed = await request_hold(api, view, other, ["101-C-1", "101-C-2"])
        assert allowed.status_code == 201
