"""Running one command-line action against the deployment the settings name."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from seatmap.context import ServiceContext
from seatmap.runtime import open_context
from seatmap.settings import Settings


def with_context(settings: Settings, work: Callable[[ServiceContext], Awaitable[Any]]) -> Any:
    """Run `work` connected; a database without the schema gets "run seatmap migrate"."""

    async def run() -> Any:
        async with open_context(settings, schema="check") as ctx:
            return await work(ctx)

    return asyncio.run(run())
