"""Partner CORS: public reads from any origin, the buyer API only from listed origins."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from httpkit.cors import CorsPaths, PartnerCorsMiddleware

PATHS = CorsPaths(
    public=("/events/{event_id:int}/tiles.json",),
    buyer=("/sessions", "/events/{event_id:int}/holds"),
)
PARTNER = "https://partner.example"
STRANGER = "https://stranger.example"


def app_with_calls() -> tuple[httpx.AsyncClient, list[str]]:
    calls: list[str] = []

    async def endpoint(request: Request) -> Response:
        calls.append(f"{request.method} {request.url.path}")
        return JSONResponse({"ok": True}, status_code=201 if request.method == "POST" else 200)

    app = Starlette(
        routes=[
            Route("/events/{event_id:int}/tiles.json", endpoint),
            Route("/sessions", endpoint, methods=["POST"]),
            Route("/events/{event_id:int}/holds", endpoint, methods=["GET", "POST"]),
            Route("/events/{event_id:int}/block", endpoint, methods=["POST"]),
        ],
        middleware=[Middleware(PartnerCorsMiddleware, paths=PATHS, buyer_origins=(PARTNER,))],
    )
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://seats.test"), calls


async def test_public_reads_carry_allow_origin_star_with_or_without_an_origin() -> None:
    client, _ = app_with_calls()
    plain = await client.get("/events/1/tiles.json")
    assert plain.headers["access-control-allow-origin"] == "*"
    assert "ETag" in plain.headers["access-control-expose-headers"]
    cross = await client.get("/events/1/tiles.json", headers={"Origin": STRANGER})
    assert cross.headers["access-control-allow-origin"] == "*"


async def test_public_preflight_allows_conditional_headers_from_anywhere() -> None:
    client, calls = app_with_calls()
    resp = await client.options(
        "/events/1/tiles.json",
        headers={
            "Origin": STRANGER,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == "*"
    assert "If-None-Match" in resp.headers["access-control-allow-headers"]
    assert calls == []


async def test_buyer_api_preflight_and_request_from_a_listed_origin() -> None:
    client, calls = app_with_calls()
    pre = await client.options(
        "/events/1/holds",
        headers={
            "Origin": PARTNER,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == PARTNER
    assert "POST" in pre.headers["access-control-allow-methods"]
    post = await client.post("/events/1/holds", json={}, headers={"Origin": PARTNER})
    assert post.status_code == 201
    assert post.headers["access-control-allow-origin"] == PARTNER
    assert "origin" in post.headers["vary"].lower()
    assert calls == ["POST /events/1/holds"]


async def test_buyer_api_refuses_other_origins_before_the_route_runs() -> None:
    client, calls = app_with_calls()
    pre = await client.options(
        "/events/1/holds", headers={"Origin": STRANGER, "Access-Control-Request-Method": "POST"}
    )
    assert pre.status_code == 403
    assert "access-control-allow-origin" not in pre.headers
    post = await client.post(
        "/sessions", content=b"{}", headers={"Origin": STRANGER, "Content-Type": "text/plain"}
    )
    assert post.status_code == 403
    assert post.json()["error"] == "origin_not_allowed"
    assert STRANGER in post.json()["detail"]
    assert calls == []


async def test_buyer_api_serves_its_own_pages_and_clients_without_an_origin() -> None:
    client, calls = app_with_calls()
    own_page = await client.post("/sessions", headers={"Origin": "http://seats.test"})
    no_origin = await client.post("/sessions")
    assert own_page.status_code == no_origin.status_code == 201
    assert calls == ["POST /sessions", "POST /sessions"]


async def test_routes_of_neither_kind_get_no_cors_headers() -> None:
    client, _ = app_with_calls()
    resp = await client.post("/events/1/block", headers={"Origin": PARTNER})
    assert "access-control-allow-origin" not in resp.headers


async def test_own_pages_behind_a_tls_proxy_count_as_same_origin() -> None:
    client, calls = app_with_calls()
    behind_tls = await client.post("/sessions", headers={"Origin": "https://seats.test",
                                                         "Host": "seats.test:80"})
    other_port = await client.post("/sessions", headers={"Origin": "http://seats.test:8080"})
    assert (behind_tls.status_code, other_port.status_code) == (201, 403)
    assert calls == ["POST /sessions"]
