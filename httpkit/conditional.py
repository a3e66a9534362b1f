"""Conditional GET, written once: content ETags and If-None-Match (RFC 9110 8.8.3 and 13.1.2).

`content_etag(*parts)` is the one way an ETag is made here: a quoted strong tag
of a blake2b digest of the parts, so equal content gives an equal tag in every
process without coordination. `none_match(header, etag)` says whether a
request's If-None-Match names the tag: `*` matches any current representation,
the header may list several tags, and tags compare weakly (a `W/` prefix on
either side is ignored), as the RFC asks of If-None-Match.
`conditional_response(...)` answers 304 or the full body.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

ETAG_DIGEST_BYTES = 12
# One entity-tag of a list: optional weakness marker, then the quoted opaque tag
# (which may itself contain commas, so the list is not split on commas).
ENTITY_TAG = re.compile(r'(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")')


def content_etag(*parts: bytes) -> str:
    """The quoted strong ETag of the concatenated parts (blake2b, 96 bits)."""
    digest = hashlib.blake2b(digest_size=ETAG_DIGEST_BYTES)
    for part in parts:
        digest.update(part)
    return f'"{digest.hexdigest()}"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when an If-None-Match value is `*` or lists `etag` (weak comparison)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    if opaque not in if_none_match:  # the common miss costs one substring search
        return False
    return any(tag == opaque for tag in ENTITY_TAG.findall(if_none_match))


def conditional_response(
    request: Request,
    body: bytes,
    media_type: str,
    etag: str,
    headers: Mapping[str, str],
) -> Response:
    """304 with the validators when the request's If-None-Match names `etag`, else 200 + body.

    `headers` (Cache-Control, Vary, ...) go on both answers, as a 304 must carry
    the headers the 200 would have had for caches to update their copy.
    """
    all_headers = {"ETag": etag, **headers}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=all_headers)
    return Response(body, media_type=media_type, headers=all_headers)
