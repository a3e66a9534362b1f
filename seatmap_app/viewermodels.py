"""The viewer pages' contract: which event a page shows, and what the pages answer."""

from __future__ import annotations

from msgspec import Struct

from httpkit.contract import EventPath, Id, Operation, binary_reply, empty_reply

PAGE = binary_reply("text/html", description="An HTML page.")
PAGE_REPLIES = {
    200: PAGE,
    304: empty_reply("Not modified (If-None-Match)."),
    404: binary_reply("text/html", description="No such event: a page saying so."),
}


class ViewerQuery(Struct):
    """The event the viewer opens (none: an empty map)."""

    event: Id | None = None


VIEWER = Operation(
    "GET", "/viewer/", "The seat map viewer.", "viewer", PAGE_REPLIES, (400, 503),
    query=ViewerQuery,
)
EMBED = Operation(
    "GET", "/embed/{event_id}", "The embeddable viewer page.", "viewer", PAGE_REPLIES,
    (400, 503), path_params=EventPath,
)
