"""Structured logs: one JSON object per line, written to the standard error of the moment."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import orjson
import pytest

from seatmap.logs import configure_logging, request_id_var


@pytest.fixture
def restored_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_records_are_json_lines_with_the_request_id(
    restored_root_logger: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)
    configure_logging(json_lines=True, access_log=True)
    token = request_id_var.set("req-42")
    try:
        logging.getLogger("seatmap.access").info(
            "request", extra={"method": "POST", "path": "/x", "status": 201}
        )
    finally:
        request_id_var.reset(token)
    entry = orjson.loads(out.getvalue().splitlines()[-1])
    assert entry["request_id"] == "req-42"
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/x", 201)
    assert entry["level"] == "info" and entry["logger"] == "seatmap.access"


def test_a_replaced_and_closed_stderr_does_not_swallow_later_records(
    restored_root_logger: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging(json_lines=False)
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("seatmap.test").warning("after the swap")
    written = second.getvalue()
    assert "Logging error" not in written
    assert written.rstrip().endswith("WARNING seatmap.test: after the swap")
