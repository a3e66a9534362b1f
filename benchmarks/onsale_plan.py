"""The on-sale buyers' plan, as read by locust: the event, the pyramid, blocks of seats to pick."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """Adjacent standard seats of one row, and their centre in zoom-0 pixels."""

    ids: list[str]
    cx0: float
    cy0: float


@dataclass(frozen=True)
class Plan:
    """What buyers know of the sale before they start (written by onsale_sale.write_plan)."""

    event_id: int
    world_px0: tuple[float, float]
    max_zoom: int
    detail_zoom: int
    popular_sections: list[str]
    blocks: list[Block]
    # Cumulative block weights: seats nearer the stage are wanted more.
    block_weights: list[float]

    def pick_block(self) -> Block:
        """A block chosen at random, weighted by how much buyers want it."""
        return random.choices(self.blocks, cum_weights=self.block_weights)[0]


def load_plan(path: str | None) -> Plan:
    """The plan in the JSON file at `path`; exits naming SEATMAP_LOAD_PLAN if there is none."""
    if not path:
        raise SystemExit("SEATMAP_LOAD_PLAN is not set; run benchmarks/onsale.py")
    with open(path, encoding="utf-8") as handle:
        plan = json.load(handle)
    blocks = plan["blocks"]
    return Plan(
        event_id=int(plan["event_id"]),
        world_px0=(plan["world_px0"][0], plan["world_px0"][1]),
        max_zoom=int(plan["max_zoom"]),
        detail_zoom=int(plan["detail_zoom"]),
        popular_sections=plan["popular_sections"],
        blocks=[Block(ids=b["ids"], cx0=b["cx0"], cy0=b["cy0"]) for b in blocks],
        block_weights=list(itertools.accumulate(b["weight"] for b in blocks)),
    )
