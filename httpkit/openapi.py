"""The OpenAPI 3.1 document, generated from the operations the mounted routes declare.

Schemas come from the msgspec types (`msgspec.json.schema_components`); a
parameter model becomes one parameter per field; binary replies are
`{"type": "string", "contentMediaType": ...}` as OpenAPI 3.1 writes them.
Each app documents exactly what it mounts, so the roof's document is the
merge of every service's part.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from httpkit.contract import JSON, ErrorReply, Operation, Reply, declared

Json = dict[str, Any]
REF = "#/components/schemas/{name}"
ERROR_TEXT = {
    400: "Malformed request: a bad parameter, bad JSON, a missing or ill-typed field.",
    401: "Missing, invalid or expired credential (buyer token or X-API-Key).",
    404: "No such event, seat, section or hold (someone else's hold is 404 too).",
    405: "Method not allowed; the Allow header lists the ones that are.",
    409: "Conflict: seats taken, no block available, or a sale in progress.",
    410: "The hold has ended: expired, released or sold.",
    413: "The request body is too large.",
    422: "Well-formed but refused: a broken rule (with an alternative), unknown seats.",
    429: "Rate limited; see Retry-After.",
    503: "A backing service is unavailable; see Retry-After.",
}
RETRYING = (429, 503)
SECURITY_SCHEMES: Json = {
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "buyerToken": {
        "type": "http", "scheme": "bearer", "description": "A token from POST /sessions."
    },
}
INFO: Json = {
    "title": "seatmap",
    "version": "1.0.0",
    "description": "Seat maps as raster tiles with live availability, and a lock service that "
    'holds and sells seats. Errors are JSON objects `{"error": code, "detail": text, ...}`.',
}


def declared_operations(routes: Iterable[BaseRoute]) -> list[Operation]:
    """Every operation the routes declare (`declared` or `documents`), in route order."""
    return [op for route in routes for op in getattr(route, "operations", ())]


def _without_null(schema: Json) -> Json:
    """An optional parameter's schema without its `null` branch (absent, not null)."""
    branches = schema.get("anyOf")
    if not branches:
        return schema
    kept = [b for b in branches if b.get("type") != "null"]
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    if rest.get("default", 0) is None:
        del rest["default"]
    return {**kept[0], **rest} if len(kept) == 1 else {**rest, "anyOf": kept}


def _parameters(model: type | None, where: str, components: Json) -> list[Json]:
    if model is None:
        return []
    schema = components[model.__name__]
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema["properties"].items():
        prop = _without_null(dict(prop))
        entry: Json = {"name": name, "in": where, "required": where == "path" or name in required}
        if "description" in prop:
            entry["description"] = prop.pop("description")
        entry["schema"] = prop
        out.append(entry)
    return out


def _reply(reply: Reply, refs: dict[Any, Json]) -> Json:
    out: Json = {"description": reply.description}
    if reply.headers:
        out["headers"] = {h: {"schema": {"type": "string"}} for h in reply.headers}
    if reply.model is not None:
        out["content"] = {media: {"schema": refs[reply.model]} for media in reply.media}
    elif reply.media:
        out["content"] = {
            media: {"schema": {"type": "string", "contentMediaType": media}}
            for media in reply.media
        }
    for media in reply.text_media:
        out.setdefault("content", {})[media] = {
            "schema": {"type": "string", "contentMediaType": media}
        }
    return out


def _error(code: int, refs: dict[Any, Json]) -> Json:
    headers = ("Retry-After",) if code in RETRYING else ()
    return _reply(Reply(ERROR_TEXT[code], ErrorReply, (JSON,), headers), refs)


def _operation(op: Operation, refs: dict[Any, Json], components: Json) -> Json:
    params = [
        *_parameters(op.path_params, "path", components),
        *_parameters(op.query, "query", components),
        *_parameters(op.headers, "header", components),
    ]
    out: Json = {"summary": op.summary, "tags": [op.tag]}
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {
            "required": op.body_required,
            "content": {JSON: {"schema": refs[op.body]}},
        }
    responses = {str(code): _reply(reply, refs) for code, reply in sorted(op.replies.items())}
    responses.update({str(code): _error(code, refs) for code in sorted(op.errors)})
    out["responses"] = responses
    if op.security:
        out["security"] = [{name: [] for name in schemes} for schemes in op.security]
    return {**out, **op.extra}


def openapi_document(operations: Iterable[Operation]) -> Json:
    """The OpenAPI 3.1 document of the operations, schemas generated from their types."""
    ops = list(operations)
    params = {m for op in ops for m in (op.path_params, op.query, op.headers) if m is not None}
    bodies = {op.body for op in ops if op.body is not None}
    replies = {r.model for op in ops for r in op.replies.values() if r.model is not None}
    types = sorted(params | bodies | replies | {ErrorReply}, key=repr)
    schemas, components = msgspec.json.schema_components(types, ref_template=REF)
    refs = dict(zip(types, schemas, strict=True))
    paths: Json = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, components)
    for model in params:  # inlined as parameters, not referenced
        components.pop(model.__name__, None)
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
    }


OPENAPI = Operation(
    "GET", "/openapi.json", "This document: every operation the app serves.", "operations",
    {200: Reply("OpenAPI 3.1.", dict[str, Any], (JSON,))},
)


def openapi_route() -> Route:
    """`GET /openapi.json`: the document of every declared route of the app it is mounted in."""
    cache: dict[int, bytes] = {}

    async def openapi(request: Request) -> Response:
        # Services mount their routes at startup: the document is made once they are in.
        routes = request.app.router.routes
        if len(routes) not in cache:
            cache[len(routes)] = msgspec.json.encode(openapi_document(declared_operations(routes)))
        return Response(cache[len(routes)], media_type=JSON)

    return declared(openapi, OPENAPI)
