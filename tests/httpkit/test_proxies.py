"""Client address and origin are taken from forwarding headers only behind trusted proxies."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from httpkit.proxies import Network, client_address, forwarded_origin
from seatmap.settings import SettingsError, load_settings

PROXIES: tuple[Network, ...] = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("fd00::/8"),
)


def scope(peer: str | None, **headers: str) -> dict[str, object]:
    """An ASGI HTTP scope from `peer` carrying the given headers (underscores become dashes)."""
    return {
        "type": "http",
        "client": (peer, 5123) if peer else None,
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


def test_forwarded_for_is_ignored_when_no_proxy_is_trusted() -> None:
    assert client_address(scope("203.0.113.9", x_forwarded_for="198.51.100.1"), ()) == "203.0.113.9"


def test_forwarded_for_is_ignored_from_an_untrusted_peer() -> None:
    forged = scope("203.0.113.9", x_forwarded_for="198.51.100.1")
    assert client_address(forged, PROXIES) == "203.0.113.9"


def test_trusted_peer_gives_the_rightmost_untrusted_hop() -> None:
    chain = scope("10.0.0.2", x_forwarded_for="1.2.3.4, 198.51.100.7, 10.1.1.1")
    assert client_address(chain, PROXIES) == "198.51.100.7"


def test_hops_across_several_headers_are_read_in_order() -> None:
    raw = scope("10.0.0.2")
    raw["headers"] = [(b"x-forwarded-for", b"1.2.3.4"), (b"x-forwarded-for", b"198.51.100.8")]
    assert client_address(raw, PROXIES) == "198.51.100.8"


def test_a_chain_of_only_trusted_hops_gives_the_left_most_proxy() -> None:
    assert client_address(scope("10.0.0.2", x_forwarded_for="10.9.9.9"), PROXIES) == "10.9.9.9"


def test_garbage_in_the_chain_blames_the_proxy_that_passed_it() -> None:
    chain = scope("10.0.0.2", x_forwarded_for="198.51.100.1, not-an-ip")
    assert client_address(chain, PROXIES) == "10.0.0.2"


def test_ports_brackets_and_mapped_addresses_are_normalised() -> None:
    assert client_address(scope("10.0.0.2", x_forwarded_for="203.0.113.5:444"), PROXIES) == (
        "203.0.113.5"
    )
    assert client_address(scope("fd00::1", x_forwarded_for="[2001:db8::5]:8443"), PROXIES) == (
        "2001:db8::5"
    )
    assert client_address(scope("::ffff:203.0.113.6"), PROXIES) == "203.0.113.6"


def test_a_scope_without_a_peer_is_unknown() -> None:
    assert client_address(scope(None, x_forwarded_for="1.2.3.4"), PROXIES) == "unknown"


def origin_app(networks: tuple[Network, ...]) -> Starlette:
    """A tiny app answering its client address and forwarded origin."""

    async def whoami(request: Request) -> JSONResponse:
        scheme, host = forwarded_origin(request, networks)
        return JSONResponse(
            {"address": client_address(request, networks), "scheme": scheme, "host": host}
        )

    return Starlette(routes=[Route("/", whoami)])


async def ask(peer: str, headers: dict[str, str]) -> dict[str, str]:
    """What the tiny app answers a request from `peer` with these headers."""
    transport = httpx.ASGITransport(app=origin_app(PROXIES), client=(peer, 999))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body: dict[str, str] = (await client.get("/", headers=headers)).json()
        return body


async def test_forwarded_origin_is_believed_from_a_trusted_peer() -> None:
    headers = {
        "X-Forwarded-For": "198.51.100.3",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "tickets.example.com",
    }
    assert await ask("10.2.3.4", headers) == {
        "address": "198.51.100.3",
        "scheme": "https",
        "host": "tickets.example.com",
    }


async def test_forwarded_origin_is_ignored_from_an_untrusted_peer() -> None:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    assert await ask("203.0.113.50", headers) == {
        "address": "203.0.113.50",
        "scheme": "http",
        "host": "testserver",
    }


async def test_a_forwarded_host_with_odd_characters_is_not_believed() -> None:
    body = await ask("10.2.3.4", {"X-Forwarded-Host": "a/b?c", "X-Forwarded-Proto": "gopher"})
    assert (body["host"], body["scheme"]) == ("testserver", "http")


def test_trusted_proxies_setting_parses_cidrs_and_rejects_garbage(tmp_path: object) -> None:
    env = {"SEATMAP_DATA_DIR": str(tmp_path), "SEATMAP_TRUSTED_PROXIES": "10.0.0.0/8, ::1"}
    assert load_settings(env).trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert load_settings({"SEATMAP_DATA_DIR": str(tmp_path)}).trusted_proxies == ()
    with pytest.raises(SettingsError, match="SEATMAP_TRUSTED_PROXIES"):
        load_settings({**env, "SEATMAP_TRUSTED_PROXIES": "10.0.0.0/8,localhost"})
