"""What the on-sale buyers leave behind: a JSON-lines log of what they were told, status counts.

benchmarks/onsale.py audits PostgreSQL and Redis against the log (holds, sales,
releases, abandoned holds) and lists the status counts, read from the log's path
plus `.statuses.json`, in its report.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any


class BuyerLog:
    """Appends records to the JSON-lines file at `path` (nowhere if None) as they happen."""

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._handle = open(  # noqa: SIM115 - kept open for the whole run, closed by close()
            path or os.devnull, "a", buffering=1, encoding="utf-8"
        )
        self.statuses: Counter[str] = Counter()

    def record(self, **record: Any) -> None:
        """Append one audit record (hold, sale, release, abandon) as a JSON line."""
        record["at"] = round(time.time(), 3)
        self._handle.write(json.dumps(record, separators=(",", ":")) + "\n")

    def count_status(self, name: str, status: int) -> None:
        """Count one answer of status `status` to the request named `name`."""
        self.statuses[f"{name} {status}"] += 1

    def close(self) -> None:
        """Leave the status counts next to the log for the on-sale table, and close the log."""
        if self._path:
            with open(self._path + ".statuses.json", "w", encoding="utf-8") as handle:
                json.dump(dict(self.statuses), handle, indent=1, sort_keys=True)
        self._handle.close()
