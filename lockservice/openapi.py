"""Placeholder."""

from __future__ import annotations


def openapi_json() -> bytes:
    """The OpenAPI document."""
    return b"{}"
