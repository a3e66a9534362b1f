"""Which Redis client the settings ask for: one server, or a cluster through any node."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster

from seatmap.redisclient import REDIS_UNAVAILABLE, is_cluster, redis_client
from seatmap.runtime import settings_redis
from seatmap.settings import Settings, SettingsError, load_settings


def test_cluster_mode_is_read_from_the_environment_and_passed_to_child_processes(
    tmp_path: Path,
) -> None:
    env = {"SEATMAP_DATA_DIR": str(tmp_path), "SEATMAP_REDIS_URL": "redis://10.0.0.5:7000/0"}
    assert load_settings(env).redis_cluster is False
    settings = load_settings({**env, "SEATMAP_REDIS_CLUSTER": "1"})
    assert settings.redis_cluster is True
    child = load_settings({**settings.connection_environ()})
    assert child.redis_cluster is True and child.redis_url == "redis://10.0.0.5:7000/0"
    assert load_settings({**env, "SEATMAP_REDIS_CLUSTER": "0"}).redis_cluster is False


async def test_cluster_mode_gives_the_cluster_client_and_needs_a_node_url() -> None:
    node = "redis://127.0.0.1:7000/0"
    cluster = settings_redis(Settings(redis_url=node, redis_cluster=True), node)
    single = settings_redis(Settings(redis_url="redis://127.0.0.1:6379/0"), "redis://127.0.0.1:1")
    try:
        assert isinstance(cluster, RedisCluster) and is_cluster(cluster)
        assert not is_cluster(single)
    finally:
        await single.aclose()
    with pytest.raises(SettingsError, match="SEATMAP_REDIS_URL"):
        settings_redis(Settings(redis_cluster=True), "redis://127.0.0.1:6379/0")


async def test_an_unreachable_cluster_raises_a_redis_error_not_a_bug() -> None:
    cluster = redis_client("redis://127.0.0.1:1/0", cluster=True)
    with pytest.raises(REDIS_UNAVAILABLE):
        await cluster.get("seatmap:{ev:1}:status")
