"""The GRIP hold a stream request is handed over with, and the position Pushpin recovers from.

A hand-over names the position the connection has (`prev-id`) and a next link, so Pushpin
detects a published item that does not follow and asks the stream again with
`Grip-Last`; the app must resume from that position, not from the client's own
Last-Event-ID (the recovery request carries none).
"""

from __future__ import annotations

from lockservice.grip import channel_name, grip_last, hold_headers, stream_path
from seatmap.settings import Settings

SETTINGS = Settings(redis_prefix="seatmap:t1:")


def test_hold_with_prev_id_names_the_position_and_the_next_link() -> None:
    headers = dict(hold_headers(SETTINGS, 7, "1700000000000-3.ab12"))
    channel = channel_name(SETTINGS, 7)
    assert headers[b"grip-hold"] == b"stream"
    assert headers[b"grip-channel"] == f"{channel}; prev-id=1700000000000-3.ab12".encode()
    assert headers[b"grip-link"] == f"<{stream_path(7)}>; rel=next".encode()


def test_hold_without_prev_id_has_no_next_link() -> None:
    headers = dict(hold_headers(SETTINGS, 7))
    assert headers[b"grip-channel"] == channel_name(SETTINGS, 7).encode()
    assert b"grip-link" not in headers


def test_grip_last_of_the_event_channel_only() -> None:
    mine, other = channel_name(SETTINGS, 7), channel_name(SETTINGS, 8)
    values = [f"{other}; last-id=1-1.ab", f'{mine}; last-id="1700000000000-3.ab12"']
    assert grip_last(values, SETTINGS, 7) == "1700000000000-3.ab12"
    assert grip_last([f"{other}; last-id=1-1.ab"], SETTINGS, 7) is None
    assert grip_last([], SETTINGS, 7) is None
