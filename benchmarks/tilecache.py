"""The tile LRU on the hot path: tileserver.cache.TileCache against cachetools.LRUCache.

    python benchmarks/tilecache.py [--tiles 20000] [--rounds 20]

Both hold the same encoded-tile-sized bodies under the same byte bound; the
figure is nanoseconds per cache hit, the lookup every cached tile request makes.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from cachetools import LRUCache

from tileserver.cache import TileCache

CACHE_BYTES = 128 * 2**20


def ns_per_hit(get: Callable[[str], object], keys: list[str], rounds: int) -> float:
    """Nanoseconds per lookup of keys that are all cached."""
    started = time.perf_counter()
    for _ in range(rounds):
        for key in keys:
            get(key)
    return (time.perf_counter() - started) / (rounds * len(keys)) * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiles", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    bodies = {f'"{i:024x}"': os.urandom(200 + i % 1800) for i in range(args.tiles)}
    keys = list(bodies)
    ours = TileCache(CACHE_BYTES)
    theirs: LRUCache[str, bytes] = LRUCache(maxsize=CACHE_BYTES, getsizeof=len)
    for key, body in bodies.items():
        ours.put(key, body)
        theirs[key] = body
    mine = ns_per_hit(ours.get, keys, args.rounds)
    baseline = ns_per_hit(theirs.get, keys, args.rounds)
    print(f"TileCache hit: {mine:.0f} ns   cachetools.LRUCache hit: {baseline:.0f} ns   "
          f"({baseline / mine:.2f}x)")


if __name__ == "__main__":
    main()
