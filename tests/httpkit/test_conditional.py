"""If-None-Match semantics and content ETags (RFC 9110 13.1.2, 8.8.3)."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from httpkit.conditional import conditional_response, content_etag, none_match

TAG = '"abc"'


@pytest.mark.parametrize(
    "header, expected",
    [
        ('"abc"', True),
        ('"x", "abc"', True),
        ('"x","abc" , "y"', True),
        ('W/"abc"', True),  # weak comparison: W/ on the request side is ignored
        ("*", True),
        (" * ", True),
        ('"x"', False),
        ('"abcd"', False),
        ('"xabc"', False),
        ('"x,"abc""', False),  # malformed list: no tag equals "abc"
        ("abc", False),  # unquoted is not an entity-tag
        ("", False),
        (None, False),
        ('"a,b", "abc"', True),  # a comma inside an opaque tag does not split the list
    ],
)
def test_if_none_match_lists_star_and_weak_tags(header: str | None, expected: bool) -> None:
    assert none_match(header, TAG) is expected


def test_a_weak_etag_matches_its_strong_twin_and_commas_inside_tags_are_kept() -> None:
    assert none_match('"abc"', 'W/"abc"')
    assert none_match('"a,b"', '"a,b"')
    assert not none_match('"a"', '"a,b"')


def test_content_etag_is_a_quoted_digest_of_the_content() -> None:
    tag = content_etag(b"tile", b"bytes")
    assert tag == content_etag(b"tilebytes")
    assert tag != content_etag(b"tile", b"bytez")
    assert tag.startswith('"') and tag.endswith('"') and len(tag) == 26


async def test_conditional_response_answers_304_with_the_same_headers() -> None:
    body = b'{"x": 1}'
    etag = content_etag(body)

    async def endpoint(request: Request) -> Response:
        return conditional_response(
            request,
            body,
            "application/json",
            etag,
            {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"},
        )

    app = Starlette(routes=[Route("/", endpoint)])
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t.test")
    first = await client.get("/")
    assert (first.status_code, first.content, first.headers["etag"]) == (200, body, etag)
    again = await client.get("/", headers={"If-None-Match": f'"other", W/{etag}'})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["vary"] == "Accept-Encoding"
    assert again.headers["cache-control"] == "no-cache"
    other = await client.get("/", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.content == body
