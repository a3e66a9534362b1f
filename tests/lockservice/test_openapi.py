"""/openapi.json is generated from the declared routes: it lists every route the app
mounts, describes binary replies the OpenAPI 3.1 way, and real replies match its schemas."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jsonschema
import pytest
import schemathesis
from starlette.routing import Mount, Route

from seatmap.context import ServiceContext
from tests.lockservice.conftest import API_KEY_HEADER, bearer, buyer_token, new_event
from tests.wholeapp import whole_app

UNDOCUMENTED = {"/", "/viewer"}  # redirects to the viewer page


@pytest.fixture
async def app_client(ctx: ServiceContext) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """A client of the whole app, and the app."""
    async with whole_app(ctx) as pair:
        yield pair


def documented(path: str) -> str:
    """A Starlette route path as the document writes it (convertors dropped)."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


async def test_document_lists_every_mounted_route_and_loads_in_schemathesis(
    app_client: tuple[httpx.AsyncClient, Any],
) -> None:
    client, app = app_client
    reply = await client.get("/openapi.json")
    assert reply.status_code == 200
    doc = reply.json()
    assert doc["openapi"] == "3.1.0"
    for route in app.router.routes:
        if isinstance(route, Mount) or route.path in UNDOCUMENTED:
            continue
        assert isinstance(route, Route)
        path = documented(route.path)
        if "{name}" in path or "{fmt}" in path:  # one route, one documented path per suffix
            prefix = path.split("{name}")[0].split("{fmt}")[0]
            assert any(p.startswith(prefix) for p in doc["paths"]), route.path
            continue
        assert path in doc["paths"], route.path
        for method in route.methods or {"GET"}:
            if method != "HEAD":
                assert method.lower() in doc["paths"][path], (route.path, method)
    for path in ("/viewer/", "/embed/{event_id}", "/openapi.json", "/venues",
                 "/events/{event_id}/tiles/{z}/{x}/{y}@2x.webp", "/events/{event_id}/map.svg"):
        assert path in doc["paths"], path
    operations = list(schemathesis.openapi.from_dict(doc).get_all_operations())
    assert len(operations) >= 35
    assert all(hasattr(op, "ok") for op in operations)  # every operation parsed


async def test_binary_replies_name_their_media_type_and_never_format_binary(
    app_client: tuple[httpx.AsyncClient, Any],
) -> None:
    doc = (await app_client[0].get("/openapi.json")).json()
    assert '"format": "binary"' not in json.dumps(doc)
    media = {
        "/events/{event_id}/tiles/{z}/{x}/{y}.png": "image/png",
        "/events/{event_id}/tiles/{z}/{x}/{y}@2x.webp": "image/webp",
        "/events/{event_id}/map.pdf": "application/pdf",
        "/events/{event_id}/map.svg": "image/svg+xml",
        "/events/{event_id}/seats.bin": "application/octet-stream",
        "/events/{event_id}/status.bin": "application/octet-stream",
    }
    for path, kind in media.items():
        content = doc["paths"][path]["get"]["responses"]["200"]["content"]
        assert content == {kind: {"schema": {"type": "string", "contentMediaType": kind}}}, path


async def test_every_parameter_and_body_has_a_schema_from_its_model(
    app_client: tuple[httpx.AsyncClient, Any],
) -> None:
    doc = (await app_client[0].get("/openapi.json")).json()
    tile = doc["paths"]["/events/{event_id}/tiles/{z}/{x}/{y}.png"]["get"]
    schemas = {p["name"]: p["schema"] for p in tile["parameters"]}
    assert schemas["event_id"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
    assert schemas["z"] == schemas["y"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    webp = doc["paths"]["/events/{event_id}/map.webp"]["get"]["parameters"]
    assert {p["name"]: p["schema"] for p in webp}["format"] == {"enum": ["webp"]}
    hold = doc["paths"]["/events/{event_id}/holds"]["post"]["requestBody"]
    body = hold["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert doc["components"]["schemas"][body]["required"] == ["seats"]


async def test_real_replies_match_the_documented_schemas(
    ctx: ServiceContext, app_client: tuple[httpx.AsyncClient, Any],
) -> None:
    api = app_client[0]
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
        if reply.content:
            kind = reply.headers["content-type"].split(";")[0]
            assert kind in content, (method, url, kind)
        if "application/json" in content:
            schema = {**content["application/json"]["schema"], "components": doc["components"]}
            jsonschema.validate(reply.json(), schema)
        checked.append((method, template, reply.status_code))
        return reply

    holds, hold_url = "/events/{event_id}/holds", "/events/{event_id}/holds/{hold_token}"
    await call("POST", "/sessions", "/sessions", headers={"X-Forwarded-For": "10.5.5.5"})
    made = await call(
        "POST", holds, f"{base}/holds",
        json={"seats": ["101-C-1", "101-C-2", "101-C-3"]}, headers=auth,
    )
    assert made.status_code == 201, made.text
    url = f"{base}/holds/{made.json()['hold_token']}"
    await call("POST", holds, f"{base}/holds", json={"seats": ["101-C-3"]}, headers=auth)
    await call("POST", holds, f"{base}/holds", json={"seats": ["101-D-2"]}, headers=auth)
    await call("POST", holds, f"{base}/holds", json={"seats": "x"}, headers=auth)
    await call("POST", holds, f"{base}/holds", json={"seats": ["101-D-1"]})
    await call("POST", holds, "/events/%C2%B2/holds", json={"seats": ["101-D-1"]}, headers=auth)
    await call("GET", hold_url, url, headers=auth)
    await call("GET", hold_url, url, headers=bearer(other))
    await call("POST", hold_url + "/extend", url + "/extend", headers=auth)
    await call("DELETE", hold_url, url, json={"seats": ["101-C-3"]}, headers=auth)
    await call("GET", holds, f"{base}/holds", headers=API_KEY_HEADER)
    await call("GET", holds, f"{base}/holds?limit=%C2%B2", headers=API_KEY_HEADER)
    best = await call(
        "POST", "/events/{event_id}/best-available", f"{base}/best-available",
        json={"count": 2}, headers=bearer(other),
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
    for action in ("block", "unblock"):
        await call("POST", f"/events/{{event_id}}/{action}", f"{base}/{action}",
                   json={"seats": ["102-F-1"]}, headers=API_KEY_HEADER)
    await call("GET", "/events/{event_id}/stats", f"{base}/stats", headers=API_KEY_HEADER)
    await call("GET", "/events/{event_id}/status.bin", f"{base}/status.bin")
    await call("GET", "/events/{event_id}/stats", "/events/424242/stats", headers=API_KEY_HEADER)
    await call("GET", "/events/{event_id}/tiles.json", f"{base}/tiles.json")
    await call("GET", "/events/{event_id}/seats/{seat_index}", f"{base}/seats/0")
    await call("GET", "/events/{event_id}/seats/{seat_index}", f"{base}/seats/%C2%B2")
    await call("GET", "/events/{event_id}/sections.json", f"{base}/sections.json")
    await call("GET", "/events/{event_id}/sections/{section}.json", f"{base}/sections/0.json")
    await call("GET", "/events/{event_id}/places.json", f"{base}/places.json?seats=0,1")
    await call("GET", "/events", "/events")
    await call("GET", "/venues", "/venues", headers=API_KEY_HEADER)
    await call("GET", "/healthz", "/healthz")
    await call("GET", "/readyz", "/readyz")
    await call("GET", "/embed/{event_id}", f"/embed/{view.event.id}")
    await call("GET", "/viewer/", "/viewer/?event=-5493")
    codes = {status for _, _, status in checked}
    assert {200, 201, 204, 400, 401, 404, 409, 410, 422} <= codes
