"""Schemathesis against /openapi.json of a live server: every endpoint, valid credentials.

At least MIN_CASES generated requests in total, positive and negative, against a
real event (path parameters point at it most of the time) with a valid operator
key and a valid buyer token on every request. Every response must be no 5xx,
have a documented status code and content type, and match its schema. Cases
come from a fixed seed so CI runs the same ones; SEATMAP_FUZZ_SEED picks others.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from seatmap.events import EventRules
from seatmap.settings import Settings
from tests.ops.api import API_KEY, open_api, seat_pairs
from tests.ops.servers import AppFactory, provision_event
from tests.venues import grid_venue

pytestmark = [pytest.mark.fuzz, pytest.mark.fault]

MIN_CASES = 2000
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
BUYERS = 40
REQUEST_TIMEOUT_S = 10.0
# A stream never ends: read it this long, then judge what arrived.
STREAM_TIMEOUT_S = 0.5
STREAM_CASES = 8
# Each operation gets at least this many cases per mode (more for ones with inputs).
FLOOR_PER_MODE = 10
REAL_ID_SHARE = 0.7
MAX_FAILURES_SHOWN = 15
MAX_FAILURE_CHARS = 1500


@dataclass
class Tally:
    """Cases sent and failures found, across every operation."""

    cases: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Fixtures:
    """Real things the fuzzer points path parameters and credentials at."""

    event_id: int
    venue_id: int
    buyer_tokens: tuple[str, ...]
    hold_tokens: tuple[str, ...]


def failure_titles(report: str) -> list[str]:
    """The one-line titles ("- ST103 Undocumented status code") in a schemathesis report."""
    return [line.strip()[2:] for line in report.splitlines() if line.strip().startswith("- ")]


def is_stream(operation: Any) -> bool:
    """True for the SSE endpoint (its responses are text/event-stream)."""
    return str(operation.path).endswith("/stream")


def point_at_real_things(case: Any, fixtures: Fixtures, draw: Any) -> None:
    """Point most path parameters at the real event, venue and holds."""
    params = case.path_parameters or {}
    for name in list(params):
        if not draw(st.floats(0, 1)) < REAL_ID_SHARE:
            continue
        if name == "event_id":
            params[name] = fixtures.event_id
        elif name == "venue_id":
            params[name] = fixtures.venue_id
        elif "token" in name:
            params[name] = draw(st.sampled_from(fixtures.hold_tokens))


def fuzz_operation(
    operation: Any,
    mode: Any,
    examples: int,
    base_url: str,
    fixtures: Fixtures,
    tally: Tally,
    round_no: int = 0,
) -> None:
    """Send up to `examples` generated cases of one operation in one mode; record failures."""
    strategy = operation.as_strategy(generation_mode=mode)
    label = f"{operation.method.upper()} {operation.path}"
    timeout = STREAM_TIMEOUT_S if is_stream(operation) else REQUEST_TIMEOUT_S
    base_seed = int(os.environ.get("SEATMAP_FUZZ_SEED", "1"))

    @seed(base_seed * 1000 + round_no)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        point_at_real_things(case, fixtures, data.draw)
        buyer = data.draw(st.sampled_from(fixtures.buyer_tokens))
        headers = {"Authorization": f"Bearer {buyer}", "X-API-Key": API_KEY}
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=timeout)
        except Exception as exc:  # a dropped connection is a failure too
            tally.failures.append(f"{label}: {type(exc).__name__}: {exc}")
            return
        tally.cases += 1
        tally.by_operation[label] = tally.by_operation.get(label, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a FailureGroup
            report = str(exc)[:MAX_FAILURE_CHARS]
            tally.failures.append(f"{label} [{mode.name}] -> {response.status_code}:\n{report}")
            for title in failure_titles(str(exc)):
                kind = f"{label} -> {response.status_code}: {title}"
                tally.kinds[kind] = tally.kinds.get(kind, 0) + 1

    with contextlib.suppress(Unsatisfiable):  # e.g. no negative case for an input-less call
        run()


def prepare(app_url: str, event_id: int, venue: Any) -> Fixtures:
    """Buyer sessions and a few live holds for the fuzzer to use."""

    async def work() -> Fixtures:
        async with open_api(app_url, event_id) as api:
            tokens = [(await api.session())[0] for _ in range(BUYERS)]
            holds = [
                await api.held(token, pair)
                for token, pair in zip(tokens[:10], seat_pairs(venue)[-10:], strict=True)
            ]
            venues = await api.http.get("/venues", headers={"X-API-Key": API_KEY})
            venue_id = max(v["id"] for v in venues.json()) if venues.status_code == 200 else 1
        return Fixtures(event_id, venue_id, tuple(tokens), tuple(holds))

    return asyncio.run(work())


@pytest.mark.timeout(600)
def test_every_endpoint_conforms_to_its_openapi_document(
    ops_settings: Settings, start_app: AppFactory
) -> None:
    venue = grid_venue(sections=2, rows=8, seats_per_row=16, aisle_after=8, name="Fuzz Hall")
    rules = EventRules(no_orphans=False, max_seats_per_buyer=100, hold_ttl_s=900, max_hold_s=1800)
    event_id = provision_event(ops_settings, venue, rules, "Fuzz night")
    app = start_app()
    fixtures = prepare(app.url, event_id, venue)
    schema = schemathesis.openapi.from_url(f"{app.url}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation schemathesis cannot use: {result.err()}"
        operations.append(result.ok())
    assert operations, "the OpenAPI document lists no operations"
    regular = [op for op in operations if not is_stream(op)]
    per_mode = max(FLOOR_PER_MODE, math.ceil(MIN_CASES * 1.25 / (2 * max(1, len(regular)))))
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)

    tally = Tally()
    for operation in operations:
        examples = STREAM_CASES if is_stream(operation) else per_mode
        for mode in modes:
            fuzz_operation(operation, mode, examples, app.url, fixtures, tally)
    # Operations with few distinct inputs run out early; top up the ones with inputs.
    rounds = 0
    while tally.cases < MIN_CASES and rounds < 5:
        rounds += 1
        for operation in random.Random(rounds).sample(regular, len(regular)):
            mode = modes[rounds % 2]
            fuzz_operation(operation, mode, per_mode, app.url, fixtures, tally, rounds)

    print(f"schemathesis: {tally.cases} cases, {len(tally.failures)} failing: {tally.by_operation}")
    kinds = "\n".join(f"{n:5d}  {kind}" for kind, n in sorted(tally.kinds.items()))
    shown = "\n\n".join(tally.failures[:MAX_FAILURES_SHOWN])
    assert tally.failures == [], (
        f"{len(tally.failures)} failing cases, by kind:\n{kinds}\n\nthe first ones:\n{shown}"
    )
    assert tally.cases >= MIN_CASES, f"only {tally.cases} cases: {tally.by_operation}"
    assert set(tally.by_operation) == {f"{o.method.upper()} {o.path}" for o in operations}
    assert app.unhandled_errors() == [], app.error_summary()
