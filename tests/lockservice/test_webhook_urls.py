"""Which endpoint URLs POST /webhooks takes: the schema allows printable-ASCII http(s) URLs
(the same set in JSON Schema's regex dialect and Python's), and of those only ones that name
a host and a possible port are registered; any other value is a 422 naming `url`."""

from __future__ import annotations

import re

import msgspec
import pytest

from lockservice.webhooks_models import WebhookRequest
from seatmap.context import ServiceContext
from tests.conftest import API_KEY_HEADER
from tests.lockservice.conftest import in_process_client
from tests.lockservice.test_webhooks import with_settings

OUTSIDE_SCHEMA = [
    "https://\u00ed9/#\u00e9",  # non-ASCII (schemathesis's case: it was 400 though schema-valid)
    "https://hooks.example/\u00a0",  # whitespace to Python's `\s`, not to every dialect's
    "https://hooks.example/\x85",
    "https://hooks.example/a b",
    "ftp://hooks.example/a",
]
NO_HOST = [
    "https://#x", "https://?a=1", "https://:80/", "https://user@/", "https://xn--a/",
    "https://[zz]/", "https://hooks.example:99999/", "https://hooks.example:1x/",
]


def test_the_published_pattern_sorts_the_same_urls_out() -> None:
    schema = msgspec.json.schema(WebhookRequest)
    pattern = re.compile(schema["$defs"]["WebhookRequest"]["properties"]["url"]["pattern"])
    for url in OUTSIDE_SCHEMA:
        assert not pattern.search(url), url
    for url in NO_HOST:
        assert pattern.search(url), url


@pytest.mark.parametrize(("url", "status"), [(u, 400) for u in OUTSIDE_SCHEMA]
                         + [(u, 422) for u in NO_HOST])
async def test_a_bad_url_is_refused_naming_the_field(
    ctx: ServiceContext, url: str, status: int
) -> None:
    async with in_process_client(with_settings(ctx, webhook_enabled=False)) as api:
        reply = await api.post("/webhooks", json={"url": url, "events": ["sale"]},
                               headers=API_KEY_HEADER)
    assert reply.status_code == status, reply.text
    assert reply.json().get("field") == "url", reply.text
