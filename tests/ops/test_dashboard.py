"""The Grafana dashboard in deploy/grafana: well formed, and every query (and every alert
rule) asks only for metrics the running app exports on /metrics, which carry data once a
hold, a sale and a map view have happened."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from seatmap.context import ServiceContext
from tests.lockservice.conftest import bearer, buyer_token, confirm_headers, new_event
from tests.ops.test_alert_rules import RULES, alert_rules, promtool
from tests.wholeapp import whole_app

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "seatmap.json"
DATASOURCE_VARIABLE = "${datasource}"
# Sample names a metric family of each type is exported under.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "unknown": ("",),
}
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
GROUPING = r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"
# What the dashboard must show, by the metric that shows it.
ON_SALE_METRICS = {
    "holds by outcome": "seatmap_holds_total",
    "sales per minute": "seatmap_confirm_seconds_count",
    "seats by status": "seatmap_seats",
    "tile hit ratio": "seatmap_tile_requests_total",
    "SSE clients": "seatmap_sse_connections",
    "change-log lag": "seatmap_changelog_lag_seconds",
    "5xx/503 rates": "seatmap_http_requests_total",
    "p99 latency": "seatmap_http_request_seconds_bucket",
    "hold p99": "seatmap_hold_seconds_bucket",
}


def dashboard() -> dict[str, Any]:
    """The dashboard JSON."""
    document: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return document


def panel_queries(document: dict[str, Any]) -> list[str]:
    """The PromQL of every panel target."""
    return [t["expr"] for p in document["panels"] for t in p.get("targets", [])]


def variable_metrics(document: dict[str, Any]) -> set[str]:
    """Metrics the template variables read with label_values(metric, label)."""
    found = set()
    for variable in document["templating"]["list"]:
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query or "")
        found.update(re.findall(r"label_values\(\s*([A-Za-z_:][\w:]*)\s*,", text))
    return found


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, labels and keywords aside)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(GROUPING, " ", text)
    names = set()
    for word in re.finditer(r"(?<![\w.$])[A-Za-z_:][\w:]*", text):
        if text[word.end() :].lstrip().startswith("("):
            continue  # a function or an aggregation
        if word.group(0).lower() not in PROMQL_KEYWORDS:
            names.add(word.group(0))
    return names


def exported_names(exposition: str) -> set[str]:
    """Every sample name the families of a /metrics reply are exported under."""
    names = set()
    for family in text_string_to_metric_families(exposition):
        names.update(sample.name for sample in family.samples)
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
    return names


def samples(exposition: str, name: str) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of every sample of one name."""
    return [
        (dict(s.labels), s.value)
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
        if s.name == name
    ]


def test_the_query_reader_finds_metric_names_and_nothing_else() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (le, route) "
        '(rate(a_bucket{route=~"x|y"}[$__rate_interval])))'
        " / on (instance) group_left (job) b_total offset 5m > bool 1e9 * c:ratio"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c:ratio"}


def test_dashboard_is_well_formed_and_reads_its_data_source_from_a_variable() -> None:
    document = dashboard()
    assert 36 <= document["schemaVersion"] <= 41 and document["uid"] and document["title"]
    variables = {v["name"]: v for v in document["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = [p for p in document["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in document["panels"]}) == len(document["panels"])
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        assert panel["title"] and panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == DATASOURCE_VARIABLE, panel["title"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_VARIABLE, panel["title"]
            assert target["expr"].strip(), panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                 for y in range(grid["y"], grid["y"] + grid["h"])}  # fmt: skip
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"]["uid"] == DATASOURCE_VARIABLE, variable["name"]
    used = set().union(*(metric_names(q) for q in panel_queries(document)))
    missing = {what for what, metric in ON_SALE_METRICS.items() if metric not in used}
    assert not missing, f"the dashboard does not show {sorted(missing)}"


def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    queries = panel_queries(dashboard())
    rules = [
        {"record": f"dashboard:query_{i}", "expr": re.sub(r"\$__\w+", "1m", q)}
        for i, q in enumerate(queries)
    ]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    done = subprocess.run(
        [promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(queries)} rules found" in done.stdout


async def test_every_query_and_alert_names_only_metrics_the_app_exports_and_they_carry_data(
    ctx: ServiceContext,
) -> None:
    view = await new_event(ctx)  # before the app starts, so its sweeper looks at it
    token, _ = buyer_token(ctx.settings)
    other, _ = buyer_token(ctx.settings)
    event = str(view.event.id)
    async with whole_app(ctx) as (client, _):
        holds = f"/events/{event}/holds"
        held = await client.post(
            holds, json={"seats": ["101-B-1", "101-B-2"]}, headers=bearer(token)
        )
        assert held.status_code == 201, held.text
        taken = await client.post(holds, json={"seats": ["101-B-2"]}, headers=bearer(other))
        assert taken.status_code == 409, taken.text
        sold = await client.post(
            f"{holds}/{held.json()['hold_token']}/confirm", headers=confirm_headers("dash-1")
        )
        assert sold.status_code == 201, sold.text
        tile = await client.get(f"/events/{event}/tiles/1/0/0.png")
        assert tile.status_code == 200, tile.text
        exposition = await exposition_once(client, lambda text: seats_of(text, event, "sold") == 2)

    exported = exported_names(exposition)
    document = dashboard()
    for query in panel_queries(document):
        unknown = metric_names(query) - exported
        assert not unknown, f"{query} reads {sorted(unknown)}, which /metrics does not export"
    assert variable_metrics(document) <= exported, variable_metrics(document) - exported
    for rule in alert_rules():
        unknown = metric_names(rule["expr"]) - exported
        assert not unknown, f"{rule['alert']} ({RULES.name}) reads {sorted(unknown)}"

    def value(name: str, **labels: str) -> float:
        return sum(v for got, v in samples(exposition, name) if labels.items() <= got.items())

    assert value("seatmap_hold_seconds_count", outcome="ok") >= 1
    assert value("seatmap_hold_seconds_count", outcome="conflict") >= 1
    assert value("seatmap_holds_total", outcome="ok") >= 1
    assert value("seatmap_confirm_seconds_count") >= 1
    assert samples(exposition, "seatmap_changelog_lag_seconds")
    assert [v for s, v in samples(exposition, "seatmap_sweeper_lag_seconds") if s["event"] == event]
    assert value("seatmap_seats", event=event) == view.venue.seat_count
    assert value("process_resident_memory_bytes") > 10_000_000
    assert {s["reason"] for s, _ in samples(exposition, "seatmap_sse_drops_total")} == {
        "lagged",
        "write_error",
        "reader_ended",
    }


def seats_of(exposition: str, event: str, status: str) -> float:
    """The seats gauge of one event and status in a /metrics reply (-1 if absent)."""
    found = [
        v
        for s, v in samples(exposition, "seatmap_seats")
        if s == {"event": event, "status": status}
    ]
    return found[0] if found else -1


async def exposition_once(client: httpx.AsyncClient, ready: Any, timeout_s: float = 10) -> str:
    """/metrics once `ready(text)` holds (the change-log follower counts seats each second)."""
    deadline = time.monotonic() + timeout_s
    while True:
        reply = await client.get("/metrics")
        assert reply.status_code == 200
        if ready(reply.text) or time.monotonic() > deadline:
            return reply.text
        await asyncio.sleep(0.2)
