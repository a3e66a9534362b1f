"""Schemathesis, every check enabled, against the generated /openapi.json of a live server.

The schemathesis engine runs its examples, coverage and fuzzing phases over
every operation: positive and negative cases, undeclared methods, missing
required headers, requests with and without credentials, schema-violating
bodies and parameters. Every check is on: no 5xx, documented status codes,
content types, headers and schemas, valid data accepted, invalid data
rejected, 405 with `Allow`, auth not ignored, no use after free. Path
parameters point at a real event and real holds most of the time (schemathesis
dictionaries); the operator key and a buyer token go with every request. At
least MIN_CASES cases run, from a fixed seed (SEATMAP_FUZZ_SEED picks others).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events

from seatmap.events import EventRules
from seatmap.settings import Settings
from tests.ops.api import API_KEY, open_api, seat_pairs
from tests.ops.servers import AppFactory, provision_event
from tests.venues import grid_venue

pytestmark = [pytest.mark.fuzz, pytest.mark.fault, pytest.mark.slow]

MIN_CASES = 5000
# Fuzzing examples per operation and mode; coverage and examples phases add their own.
MAX_EXAMPLES = 100
# A live stream never ends by itself: read each for this long, then judge what arrived.
STREAM_READ_S = 0.5
REAL_ID_SHARE = 0.7
MAX_FAILURES_SHOWN = 12
MAX_FAILURE_CHARS = 1200
# A well-formed request the schema cannot judge may still be refused on the venue's
# facts: a seat or section that does not exist there, a rule of the event (422), a
# hold already ended (410). Everything else a valid request gets is a success.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "410", "422", "429"]


@dataclass
class Tally:
    """Cases sent and failures found, across every operation and phase."""

    cases: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def record(tally: Tally, recorder: Any, elapsed_s: float) -> None:
    """Count a finished scenario's cases and time, and keep its failed checks."""
    tally.seconds[recorder.label] += elapsed_s
    tally.cases += len(recorder.cases)
    tally.by_operation[recorder.label] += len(recorder.cases)
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            tally.kinds[f"{recorder.label}: {check.name}: {failure.title}"] += 1
            case = recorder.cases[case_id].value
            interaction = recorder.interactions.get(case_id)
            status = interaction.response.status_code if interaction and interaction.response else 0
            text = (
                f"{recorder.label} [{check.name}] -> {status}: {failure.title}\n"
                f"{failure.message}\n{case.as_curl_command()}"
            )
            tally.failures.append(text[:MAX_FAILURE_CHARS])


def prepare(app_url: str, event_id: int, venue: Any) -> tuple[str, list[str]]:
    """A buyer token, and hold tokens of that buyer for the fuzzer to use."""

    async def work() -> tuple[str, list[str]]:
        async with open_api(app_url, event_id) as api:
            token = (await api.session())[0]
            holds = [await api.held(token, pair) for pair in seat_pairs(venue)[-10:]]
        return token, holds

    return asyncio.run(work())


def fuzz_config(event_id: int, token: str, holds: list[str]) -> SchemathesisConfig:
    """Every check on, every phase but the stateful one, a fixed seed, real ids."""
    seed = int(os.environ.get("SEATMAP_FUZZ_SEED", "1"))
    real = {"dictionary": "events", "probability": REAL_ID_SHARE}
    return SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "max-failures": 200,
            "request-timeout": 10,
            "max-stream-events": 3,
            "headers": {"Authorization": f"Bearer {token}", "X-API-Key": API_KEY},
            "dictionaries": {"events": {"values": [event_id]}, "holds": {"values": holds}},
            "parameters": {
                "path.event_id": real,
                "path.hold_token": {"dictionary": "holds", "probability": REAL_ID_SHARE},
            },
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {"expected-statuses": ACCEPTED},
            },
            "operations": [
                {
                    "include-path-regex": "/stream$",
                    "request-timeout": STREAM_READ_S,
                    "generation": {"max-examples": 5},
                }
            ],
        }
    )


@pytest.mark.timeout(600)
def test_every_operation_passes_every_schemathesis_check(
    ops_settings: Settings, start_app: AppFactory
) -> None:
    venue = grid_venue(sections=2, rows=8, seats_per_row=16, aisle_after=8, name="Fuzz Hall")
    rules = EventRules(no_orphans=False, max_seats_per_buyer=100, hold_ttl_s=900, max_hold_s=1800)
    event_id = provision_event(ops_settings, venue, rules, "Fuzz night")
    app = start_app(
        SEATMAP_RATE_LIMIT_HOLDS_PER_MIN="0",
        SEATMAP_RATE_LIMIT_SESSIONS_PER_MIN="0",
        SEATMAP_PARTNER_SECRET="fuzz-partner-secret",
    )
    token, holds = prepare(app.url, event_id, venue)
    config = fuzz_config(event_id, token, holds)
    schema = schemathesis.openapi.from_url(f"{app.url}/openapi.json", config=config)
    tally = Tally()
    started = time.monotonic()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            record(tally, event.recorder, event.elapsed_time)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            tally.errors.append(f"{type(event).__name__}: {getattr(event, 'value', event)!r}")
    elapsed = time.monotonic() - started
    print(
        f"schemathesis: {tally.cases} cases in {elapsed:.0f} s, "
        f"{len(tally.failures)} failing; slowest: {tally.seconds.most_common(6)}"
    )
    kinds = "\n".join(f"{n:5d}  {kind}" for kind, n in sorted(tally.kinds.items()))
    shown = "\n\n".join(tally.failures[:MAX_FAILURES_SHOWN])
    assert tally.errors == [], "\n".join(tally.errors[:5])
    assert tally.failures == [], (
        f"{len(tally.failures)} failing checks, by kind:\n{kinds}\n\nthe first ones:\n{shown}"
    )
    assert tally.cases >= MIN_CASES, f"only {tally.cases} cases: {dict(tally.by_operation)}"
    documented = {f"{o.ok().method.upper()} {o.ok().path}" for o in schema.get_all_operations()}
    assert set(tally.by_operation) >= documented
    assert app.unhandled_errors() == [], app.error_summary()
