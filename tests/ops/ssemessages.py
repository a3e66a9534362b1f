"""Server-sent events as the test clients read them: split a byte stream into
messages and take each message's `id`, `event` and `data`.

Field values are stripped; `data` lines are joined as they come (the server
writes one per message); comments (heartbeats) and `retry` give an empty message.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SseMessage:
    """One message: its id ("" if none), event name and data."""

    id: str = ""
    event: str = "message"
    data: str = ""


def parse_message(block: bytes) -> SseMessage:
    """The fields of one message: its lines, without the blank line that ends it."""
    fields = {"id": "", "event": "message", "data": ""}
    for line in block.decode().split("\n"):
        name, colon, value = line.partition(":")
        if not colon or name not in fields:
            continue
        value = value.strip()
        fields[name] = fields[name] + value if name == "data" else value
    return SseMessage(fields["id"], fields["event"], fields["data"])


class SseSplitter:
    """Complete messages out of a stream's bytes, as they arrive."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[SseMessage]:
        """The messages this chunk completes (the rest waits for the next chunk)."""
        self._pending += chunk
        *blocks, self._pending = self._pending.split(b"\n\n")
        return [parse_message(block) for block in blocks]
