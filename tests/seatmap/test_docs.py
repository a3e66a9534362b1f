"""The API reference mentions every operation that the generated /openapi.json describes."""

from __future__ import annotations

import re
from pathlib import Path

from seatmap.context import ServiceContext
from tests.wholeapp import openapi_of

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


async def test_every_openapi_operation_is_mentioned_in_the_api_reference(
    ctx: ServiceContext,
) -> None:
    text = API_DOC.read_text()
    mentioned = set(re.findall(r"`([A-Z]+ /[^`\s]*)`", text))
    operations = {
        f"{method.upper()} {path}"
        for path, item in (await openapi_of(ctx))["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert len(operations) > 30
    assert operations - mentioned == set(), "operations missing from docs/api.md"
    unknown = {m for m in mentioned if m.split(" ")[0].lower() in HTTP_METHODS} - operations
    assert unknown == set(), "docs/api.md names operations the API does not have"


def test_the_reference_links_to_the_generated_document_instead_of_a_table() -> None:
    text = API_DOC.read_text()
    assert "/openapi.json" in text
    assert "## Endpoints at a glance" not in text
