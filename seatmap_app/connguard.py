"""The HTTP/1.1 protocol the server runs: uvicorn's, plus a header deadline and a connection cap.

uvicorn closes idle keep-alive connections but gives a client all the time it
likes to send a request's headers, so a client that dribbles one header byte
every few seconds holds a file descriptor for ever. This protocol gives every
request `header_timeout_s` from the connection's start (or from the request's
first byte, on a reused connection) to finish its headers; a late one gets
`408` with a JSON body and is closed. Connections beyond `max_connections` in
this process get `503` + `Retry-After` at once and are closed, so a flood never
runs the process out of descriptors while the clients already in keep being
served. Once the headers are in, streams and bodies are the app's business.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from seatmap.settings import Settings

RETRY_AFTER_S = 2


def _reply(status: int, reason: str, body: dict[str, Any], extra: str = "") -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(payload)}\r\nconnection: close\r\n{extra}\r\n"
    )
    return head.encode() + payload


HEADER_TIMEOUT_REPLY = _reply(
    408, "Request Timeout",
    {"error": "request_timeout", "detail": "request headers did not arrive in time"},
)
OVER_CAPACITY_REPLY = _reply(
    503, "Service Unavailable",
    {"error": "unavailable", "detail": "this server has too many open connections",
     "retry_after_s": RETRY_AFTER_S},
    f"retry-after: {RETRY_AFTER_S}\r\n",
)


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for headers and a cap on connections."""

    def __init__(
        self, *args: Any, header_timeout_s: float, max_connections: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout_s = header_timeout_s
        self._max_connections = max_connections
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Accept the connection, or answer 503 and close it when this process is full."""
        super().connection_made(transport)
        if len(self.connections) > self._max_connections:
            transport.write(OVER_CAPACITY_REPLY)
            transport.close()
            return
        self._start_header_deadline()

    def on_message_begin(self) -> None:
        """A request starts: its headers are due within the deadline."""
        super().on_message_begin()
        if self._header_deadline is None:
            self._start_header_deadline()

    def on_headers_complete(self) -> None:
        """The headers are in: the deadline no longer applies to this request."""
        self._cancel_header_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the deadline of a connection that has gone."""
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def _start_header_deadline(self) -> None:
        self._header_deadline = self.loop.call_later(
            self._header_timeout_s, self._headers_overdue
        )

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_overdue(self) -> None:
        self._header_deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a response is under way (pipelining); it ends the connection's turn
        if not self.transport.is_closing():
            self.transport.write(HEADER_TIMEOUT_REPLY)
            self.transport.close()


def guarded_protocol(settings: Settings) -> type[asyncio.Protocol]:
    """The protocol factory uvicorn is given (`http=`), configured from the settings.

    A partial of a module-level class, so it pickles into uvicorn's worker processes.
    """
    factory = functools.partial(
        GuardedHttpProtocol,
        header_timeout_s=settings.header_timeout_s,
        max_connections=settings.max_connections,
    )
    return cast(type[asyncio.Protocol], factory)  # uvicorn only calls it
