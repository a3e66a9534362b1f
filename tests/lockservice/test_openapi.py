"""/openapi.json describes every lock-service route, and real replies match its schemas."""

from __future__ import annotations

import re
from typing import Any

import httpx
import jsonschema
import schemathesis
from starlette.routing import Route

from lockservice.service import LockService
from seatmap.context import ServiceContext
from tests.lockservice.conftest import API_KEY_HEADER, bearer, buyer_token, new_event

TILE_AND_OTHER_PATHS = {
    "/events/{event_id}/tiles/{z}/{x}/{y}.png",
    "/events/{event_id}/tiles/{z}/{x}/{y}@2x.webp",
    "/events/{event_id}/tiles.json",
    "/events/{event_id}/map.png",
    "/events/{event_id}/map.pdf",
    "/events/{event_id}/map.svg",
    "/events/{event_id}/seats.bin",
    "/events/{event_id}/seats/at",
    "/events/{event_id}/seats/{seat_index}",
    "/healthz",
    "/readyz",
    "/metrics",
    "/venues",
    "/events",
}


def documented(path: str) -> str:
    """A Starlette route path as the document writes it."""
    path = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
    return path.replace("{token}", "{hold_token}")


async def test_document_lists_every_route_and_loads_in_schemathesis(
    ctx: ServiceContext, api: httpx.AsyncClient
) -> None:
    reply = await api.get("/openapi.json")
    assert reply.status_code == 200
    doc = reply.json()
    assert doc["openapi"].startswith("3.1")
    service = LockService(ctx)
    await service.shutdown()  # only its route table is needed
    for route in service.routes:
        assert isinstance(route, Route)
        path = doc["paths"].get(documented(route.path))
        assert path is not None, route.path
        for method in route.methods or {"GET"}:
            if method != "HEAD":
                assert method.lower() in path, (route.path, method)
    assert set(doc["paths"]) >= TILE_AND_OTHER_PATHS
    operations = list(schemathesis.openapi.from_dict(doc).get_all_operations())
    assert len(operations) >= 35
    assert all(hasattr(op, "ok") for op in operations)  # every operation parsed


async def test_real_replies_match_the_documented_schemas(
    ctx: ServiceContext, api: httpx.AsyncClient
) -> None:
    doc = (await api.get("/openapi.json")).json()
    view = await new_event(ctx)
    base = f"/events/{view.event.id}"
    token, _ = buyer_token(ctx.settings)
    other, _ = buyer_token(ctx.settings)
    auth = bearer(token)
    checked: list[tuple[str, str, int]] = []

    async def call(method: str, template: str, url: str, **kwargs: Any) -> httpx.Response:
        reply = await api.request(method, url, **kwargs)
        responses = doc["paths"][template][method.lower()]["responses"]
        assert str(reply.status_code) in responses, (method, url, reply.status_code, reply.text)
        content = responses[str(reply.status_code)].get("content", {})
        if "application/json" in content:
            schema = {**content["application/json"]["schema"], "components": doc["components"]}
            jsonschema.validate(reply.json(), schema)
        checked.append((method, template, reply.status_code))
        return reply

    holds, hold_url = "/events/{event_id}/holds", "/events/{event_id}/holds/{hold_token}"
    await call("POST", "/sessions", "/sessions", headers={"X-Forwarded-For": "10.5.5.5"})
    made = await call(
        "POST",
        holds,
        f"{base}/holds",
        json={"seats": ["101-C-1", "101-C-2", "101-C-3"]},
        headers=auth,
    )
    url = f"{base}/holds/{made.json()['hold_token']}"
    await call("POST", holds, f"{base}/holds", json={"seats": ["101-C-3"]}, headers=auth)
    await call("POST", holds, f"{base}/holds", json={"seats": ["101-D-2"]}, headers=auth)
    await call("POST", holds, f"{base}/holds", json={"seats": "x"}, headers=auth)
    await call("POST", holds, f"{base}/holds", json={"seats": ["101-D-1"]})
    await call("GET", hold_url, url, headers=auth)
    await call("GET", hold_url, url, headers=bearer(other))
    await call("POST", hold_url + "/extend", url + "/extend", headers=auth)
    await call("DELETE", hold_url, url, json={"seats": ["101-C-3"]}, headers=auth)
    await call("GET", holds, f"{base}/holds", headers=API_KEY_HEADER)
    best = await call(
        "POST",
        "/events/{event_id}/best-available",
        f"{base}/best-available",
        json={"count": 2},
        headers=bearer(other),
    )
    confirm = hold_url + "/confirm"
    headers = {**API_KEY_HEADER, "Idempotency-Key": "doc-1"}
    best_url = f"{base}/holds/{best.json()['hold_token']}"
    await call("POST", confirm, best_url + "/confirm", headers=headers)
    await call("POST", confirm, best_url + "/confirm", headers=headers)
    await call("POST", confirm, best_url + "/confirm", headers=headers, json={"x": 1})
    await call("POST", confirm, best_url + "/confirm", headers=API_KEY_HEADER)
    await call("DELETE", hold_url, url, headers=auth)
    await call("GET", hold_url, url, headers=auth)
    await call(
        "POST",
        "/events/{event_id}/block",
        f"{base}/block",
        json={"seats": ["102-F-1"]},
        headers=API_KEY_HEADER,
    )
    await call(
        "POST",
        "/events/{event_id}/unblock",
        f"{base}/unblock",
        json={"seats": ["102-F-1"]},
        headers=API_KEY_HEADER,
    )
    await call("GET", "/events/{event_id}/stats", f"{base}/stats", headers=API_KEY_HEADER)
    await call("GET", "/events/{event_id}/status.bin", f"{base}/status.bin")
    await call("GET", "/events/{event_id}/stats", "/events/424242/stats", headers=API_KEY_HEADER)
    codes = {status for _, _, status in checked}
    assert {200, 201, 204, 400, 401, 404, 409, 410, 422} <= codes
