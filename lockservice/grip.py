"""Handing live streams to a GRIP proxy (Pushpin) and publishing changes to it.

With `SEATMAP_GRIP_PUBLISH_URLS` set, clients reach `/events/{id}/stream` through
Pushpin. The app still answers every stream request itself: it checks the event,
serves the catch-up a resuming client missed (or `reset`), and then, instead of
holding the connection, answers with `Grip-Hold: stream` and the event's channel,
so Pushpin keeps the connection open and appends what is published later. The
SSE bytes, ids and heartbeats are the same as the built-in broadcaster's.

No change is lost between the app's catch-up and the proxy's subscription: the
hold names the position the client then has (`Grip-Channel: ...; prev-id=`),
every published item carries its own position and its predecessor's
(`lockservice.grippublish`), and the hold gives the stream's own URL as the next
link (`Grip-Link: <...>; rel=next`). When an item does not follow what a
connection has, Pushpin asks that link again with `Grip-Last: <channel>;
last-id=<position>`, which the app serves like a Last-Event-ID resume, and the
connection goes on from there. Without the next link Pushpin refuses a `prev-id`
and drops the stream.

A request counts as coming through the proxy only when it carries a `Grip-Sig`
token signed with `SEATMAP_GRIP_KEY` (Pushpin's `sig_key`); anything else is
streamed by the app itself, so one deployment can serve both.
"""

from __future__ import annotations

import jwt

from seatmap.settings import Settings

# Pushpin sends this comment line on idle streams, as the built-in heartbeat does.
KEEP_ALIVE_S = 15
GRIP_CONTENT_TYPE = "text/event-stream"


def channel_name(settings: Settings, event_id: int) -> str:
    """The proxy channel of one event (the key prefix keeps deployments apart)."""
    prefix = "".join(c if c.isalnum() else "-" for c in settings.redis_prefix)
    return f"{prefix}ev{event_id}"


def via_grip_proxy(grip_sig: str | None, settings: Settings) -> bool:
    """True when a request's Grip-Sig header is a valid, unexpired token of our proxy."""
    if not grip_sig or not settings.grip_key or not settings.grip_publish_urls:
        return False
    try:
        jwt.decode(grip_sig, settings.grip_key, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return False
    return True


def stream_path(event_id: int) -> str:
    """The path of the event's stream: the proxy's next link to recover from a gap."""
    return f"/events/{event_id}/stream"


def hold_headers(settings: Settings, event_id: int, prev_id: str = "") -> list[tuple[bytes, bytes]]:
    """Response headers that tell the proxy to hold the stream open on the event's channel.

    With `prev_id` (the position the client has once this response's body is sent),
    the proxy delivers only items that follow it and fetches the stream again, from
    the position it has, whenever one does not.
    """
    channel = channel_name(settings, event_id)
    if prev_id:
        channel += f"; prev-id={prev_id}"
    headers = [
        (b"content-type", GRIP_CONTENT_TYPE.encode()),
        (b"cache-control", b"no-cache"),
        (b"grip-hold", b"stream"),
        (b"grip-channel", channel.encode()),
        (b"grip-keep-alive", f":\\n\\n; format=cstring; timeout={KEEP_ALIVE_S}".encode()),
    ]
    if prev_id:
        headers.append((b"grip-link", f"<{stream_path(event_id)}>; rel=next".encode()))
    return headers


def grip_last(values: list[str], settings: Settings, event_id: int) -> str | None:
    """The position the proxy says a held connection has on the event's channel: the
    `last-id` of its `Grip-Last` header (sent when it fetches the next link), else None."""
    channel = channel_name(settings, event_id)
    for value in values:
        for part in value.split(","):
            name, *params = (p.strip() for p in part.split(";"))
            if name != channel:
                continue
            for param in params:
                key, _, found = param.partition("=")
                if key.strip() == "last-id" and found.strip():
                    return found.strip().strip('"')
    return None
