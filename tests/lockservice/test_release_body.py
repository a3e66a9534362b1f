"""A release body must say what it releases: a mistyped body never frees every seat."""

from __future__ import annotations

import httpx
import pytest

from seatmap.context import ServiceContext
from tests.lockservice.conftest import (
    bearer,
    buyer_token,
    hold_over_http,
    in_process_client,
    new_event,
)

LABELS = ["101-C-1", "101-C-2", "101-C-3"]


async def _held_labels(api: httpx.AsyncClient, hold_url: str, token: str) -> list[str]:
    reply = await api.get(hold_url, headers=bearer(token))
    assert reply.status_code == 200, reply.text
    return [seat["label"] for seat in reply.json()["seats"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{}", "seats"),
        (b'{"seat": ["101-C-1"]}', "seat"),
        (b'{"seats": ["101-C-1"], "extra": 1}', "extra"),
        (b'{"all": false}', "seats"),
        (b'{"all": true, "seats": ["101-C-1"]}', "all"),
    ],
)
async def test_release_body_that_names_no_seats_is_refused_and_keeps_the_hold(
    ctx: ServiceContext, body: bytes, field: str
) -> None:
    view = await new_event(ctx)
    token, _ = buyer_token(ctx.settings)
    async with in_process_client(ctx) as api:
        hold = await hold_over_http(api, view, token, LABELS)
        hold_url = f"/events/{view.event.id}/holds/{hold['hold_token']}"
        reply = await api.request(
            "DELETE", hold_url, content=body,
            headers={**bearer(token), "Content-Type": "application/json"},
        )
        assert reply.status_code == 422, reply.text
        assert reply.json()["error"] == "unprocessable"
        assert reply.json()["field"] == field
        assert field in reply.json()["detail"]
        assert await _held_labels(api, hold_url, token) == LABELS


@pytest.mark.parametrize("body", [None, b"", b"  ", b'{"all": true}'])
async def test_no_body_or_all_true_releases_the_whole_hold(
    ctx: ServiceContext, body: bytes | None
) -> None:
    view = await new_event(ctx)
    token, _ = buyer_token(ctx.settings)
    async with in_process_client(ctx) as api:
        hold = await hold_over_http(api, view, token, LABELS)
        hold_url = f"/events/{view.event.id}/holds/{hold['hold_token']}"
        reply = await api.request("DELETE", hold_url, content=body, headers=bearer(token))
        assert reply.status_code == 204, reply.text
        gone = await api.get(hold_url, headers=bearer(token))
        assert gone.status_code == 410


async def test_release_naming_seats_releases_only_those(ctx: ServiceContext) -> None:
    view = await new_event(ctx)
    token, _ = buyer_token(ctx.settings)
    async with in_process_client(ctx) as api:
        hold = await hold_over_http(api, view, token, LABELS)
        hold_url = f"/events/{view.event.id}/holds/{hold['hold_token']}"
        reply = await api.request(
            "DELETE", hold_url, json={"seats": ["101-C-3"]}, headers=bearer(token)
        )
        assert reply.status_code == 200, reply.text
        assert await _held_labels(api, hold_url, token) == LABELS[:2]
