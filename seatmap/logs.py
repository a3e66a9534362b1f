"""Structured logging: one JSON object per line, carrying the request id."""

from __future__ import annotations

import contextvars
import logging
import sys
import time

import orjson

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line with time, level, logger, message and request id."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid:
            entry["request_id"] = rid
        for key in ("method", "path", "status", "duration_ms", "client"):
            value = record.__dict__.get(key)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each record to `sys.stderr` as it is at that moment.

    A handler bound to the stream of its creation keeps writing to it after it is
    swapped and closed (by a test runner's output capture, say); late records,
    such as those of exit hooks, then fail to print.
    """

    def emit(self, record: logging.LogRecord) -> None:
        """Format and write the record to the current standard error."""
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(
    json_lines: bool = True, access_log: bool = False, level: int = logging.INFO
) -> None:
    """Send logs to stderr, as JSON lines or plain text; access lines only if asked."""
    handler = StderrHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("seatmap.access").setLevel(logging.INFO if access_log else logging.WARNING)
    logging.Formatter.converter = time.gmtime
