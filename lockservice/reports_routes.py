"""Operator reports over HTTP (X-API-Key): status and sales by group, and the sold-seat listing.

`GET /events/{id}/reports/status|sales?by=section|category|price&format=json|csv`
and `GET /events/{id}/reports/sold-seats?format=json|csv`. Without `format`, an
Accept header asking for text/csv (and not JSON) gets CSV. The listing streams:
its first chunk is made before the reply starts, so a database fault is still a
503; later faults end the stream early.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from httpkit.auth import require_operator
from httpkit.contract import declared, parse_params
from lockservice.engine import LockEngine
from lockservice.httpshapes import event_view
from lockservice.reports_build import Report, read_statuses, sales_report, status_report
from lockservice.reports_models import (
    CSV,
    SALES_REPORT,
    SOLD_SEATS_REPORT,
    STATUS_REPORT,
    ReportFormat,
    ReportQuery,
    SoldSeatsQuery,
)
from lockservice.reports_write import report_csv, report_json, sold_seat_chunks

CSV_TYPE = f"{CSV}; charset=utf-8"
JSON_TYPE = "application/json"


def negotiated(chosen: ReportFormat | None, accept: str) -> ReportFormat:
    """The `format` parameter if given; else CSV when Accept names text/csv and not JSON."""
    if chosen is not None:
        return chosen
    accept = accept.lower()
    return "csv" if CSV in accept and JSON_TYPE not in accept else "json"


def _headers(fmt: ReportFormat, filename: str) -> dict[str, str]:
    headers = {"Cache-Control": "no-store", "Vary": "Accept"}
    if fmt == "csv":
        headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return headers


def _report_response(report: Report, fmt: ReportFormat, kind: str) -> Response:
    headers = _headers(fmt, f"event-{report.event_id}-{kind}-by-{report.by}")
    if fmt == "csv":
        return Response(report_csv(report), media_type=CSV_TYPE, headers=headers)
    return Response(report_json(report), media_type=JSON_TYPE, headers=headers)


class ClosingStream(StreamingResponse):
    """A streamed reply that closes its chunk generator however the reply ends.

    A client that goes away leaves the generator suspended; closing it here
    returns its database connection to the pool at once.
    """

    def __init__(
        self, chunks: AsyncGenerator[bytes, None], first: bytes, media_type: str,
        headers: dict[str, str],
    ) -> None:
        self._chunks = chunks
        super().__init__(self._all(first), media_type=media_type, headers=headers)

    async def _all(self, first: bytes) -> AsyncIterator[bytes]:
        yield first
        async for chunk in self._chunks:
            yield chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._chunks.aclose()


def report_routes(service: LockEngine) -> list[BaseRoute]:
    """Routes of the operator reports."""
    ctx = service.ctx

    async def status(request: Request) -> Response:
        require_operator(request, ctx)
        query = parse_params(ReportQuery, request.query_params, "query")
        fmt = negotiated(query.format, request.headers.get("accept", ""))
        view = await event_view(service, request)
        report = status_report(view, query.by, await read_statuses(ctx, view))
        return _report_response(report, fmt, "status")

    async def sales(request: Request) -> Response:
        require_operator(request, ctx)
        query = parse_params(ReportQuery, request.query_params, "query")
        fmt = negotiated(query.format, request.headers.get("accept", ""))
        view = await event_view(service, request)
        return _report_response(await sales_report(ctx, view, query.by), fmt, "sales")

    async def sold_seats(request: Request) -> Response:
        require_operator(request, ctx)
        query = parse_params(SoldSeatsQuery, request.query_params, "query")
        fmt = negotiated(query.format, request.headers.get("accept", ""))
        view = await event_view(service, request)
        chunks = sold_seat_chunks(ctx, view, fmt)
        first = await anext(chunks)
        media = CSV_TYPE if fmt == "csv" else JSON_TYPE
        headers = _headers(fmt, f"event-{view.event.id}-sold-seats")
        return ClosingStream(chunks, first, media_type=media, headers=headers)

    return [
        declared(status, STATUS_REPORT),
        declared(sales, SALES_REPORT),
        declared(sold_seats, SOLD_SEATS_REPORT),
    ]
