"""Handing live streams to a GRIP proxy (Pushpin) and publishing changes to it.

With `SEATMAP_GRIP_PUBLISH_URLS` set, clients reach `/events/{id}/stream` through
Pushpin. The app still answers every stream request itself: it checks the event,
serves the catch-up a resuming client missed (or `reset`), and then, instead of
holding the connection, answers with `Grip-Hold: stream` and the event's channel,
so Pushpin keeps the connection open and appends what is published later. The
SSE bytes, ids and heartbeats are the same as the built-in broadcaster's.

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


def hold_headers(settings: Settings, event_id: int) -> list[tuple[bytes, bytes]]:
    """Response headers that tell the proxy to hold the stream open on the event's channel."""
    return [
        (b"content-type", GRIP_CONTENT_TYPE.encode()),
        (b"cache-control", b"no-cache"),
        (b"grip-hold", b"stream"),
        (b"grip-channel", channel_name(settings, event_id).encode()),
        (b"grip-keep-alive", f":\\n\\n; format=cstring; timeout={KEEP_ALIVE_S}".encode()),
    ]
