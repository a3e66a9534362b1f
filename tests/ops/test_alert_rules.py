"""The Prometheus alert rules in deploy/prometheus: valid, unit-tested, and each one a
runbook. Needs `promtool` (Debian's `prometheus` package, installed by `make system-deps`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
OPERATIONS = ROOT / "docs" / "operations.md"
SEVERITIES = {"warning", "critical"}


def promtool() -> str:
    """The promtool binary; its absence is a failure, not a skip (CI installs it)."""
    found = shutil.which("promtool")
    assert found, "promtool is missing: install Debian's prometheus package (make system-deps)"
    return found


def alert_rules() -> list[dict[str, Any]]:
    """Every alerting rule of alerts.yml."""
    document = yaml.safe_load(RULES.read_text())
    return [r for g in document["groups"] for r in g["rules"] if "alert" in r]


def heading_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown document."""
    anchors = set()
    for line in markdown.splitlines():
        found = re.match(r"^#{1,6}\s+(.*)$", line)
        if found:
            text = re.sub(r"[^\w\- ]", "", found.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors


def test_promtool_accepts_the_rules() -> None:
    done = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in done.stdout


def test_every_alert_fires_and_stays_quiet_as_its_unit_tests_expect() -> None:
    done = subprocess.run(
        [promtool(), "test", "rules", str(RULE_TESTS)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=RULE_TESTS.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_has_a_unit_test_that_fires_it_and_one_series_that_does_not() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    for rule in alert_rules():
        name = rule["alert"]
        cases = [c for t in tests for c in t.get("alert_rule_test", []) if c["alertname"] == name]
        fired = [a for c in cases for a in c.get("exp_alerts", [])]
        assert fired, f"{name}: no unit test expects it to fire"
        groups = [t for t in tests if any(c["alertname"] == name for c in t["alert_rule_test"])]
        instances = {
            i
            for t in groups
            for s in t["input_series"]
            for i in re.findall(r'instance="(\w+)"', s["series"])
        }
        assert {"bad", "good"} <= instances, f"{name}: needs a firing and a quiet series"
        assert all(a["exp_labels"]["instance"] == "bad" for a in fired), name


def test_every_alert_waits_has_a_severity_and_says_what_to_do() -> None:
    anchors = heading_anchors(OPERATIONS.read_text())
    rules = alert_rules()
    assert len(rules) >= 8
    for rule in rules:
        name = rule["alert"]
        assert re.fullmatch(r"\d+[smh]", str(rule.get("for", ""))), f"{name}: no `for:`"
        assert rule["labels"]["severity"] in SEVERITIES, name
        notes = rule["annotations"]
        assert notes["summary"] and len(notes["description"]) > 60, name
        page, _, anchor = notes["runbook_url"].partition("#")
        assert page == "docs/operations.md", name
        assert anchor == name.lower() and anchor in anchors, f"{name}: no runbook section"
