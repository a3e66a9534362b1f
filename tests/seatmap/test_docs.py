"""The API reference lists every operation that /openapi.json describes."""

from __future__ import annotations

import re
from pathlib import Path

from lockservice.openapi import openapi_document

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def glance_table() -> str:
    """The "Endpoints at a glance" section of docs/api.md."""
    text = API_DOC.read_text()
    start = text.index("## Endpoints at a glance")
    return text[start : text.index("\n## ", start + 1)]


def test_every_openapi_operation_is_in_the_api_reference() -> None:
    listed = set(re.findall(r"^\| `([A-Z]+ /[^`]*)` \|", glance_table(), flags=re.M))
    operations = {
        f"{method.upper()} {path}"
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert len(operations) > 30
    assert operations - listed == set(), "operations missing from docs/api.md"
    assert listed - operations == set(), "docs/api.md lists operations the API does not have"
