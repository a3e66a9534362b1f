"""A real Redis Cluster for tests: 3 masters + 3 replicas of the system `redis-server`.

Each node runs in its own folder under a temp dir, on a free loopback port whose
cluster-bus port (port + 10000) is free too, with a 1 s node timeout so a killed
master is replaced within a few seconds. `redis-cli --cluster create` assigns
the slots and the replicas. `cluster-require-full-coverage no` (as the docs
advise for production) keeps the other masters serving while one is down.
"""

from __future__ import annotations

import contextlib
import functools
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis as syncredis
from redis.crc import key_slot

NODE_TIMEOUT_MS = 1000
START_TIMEOUT_S = 30.0


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_ports(count: int) -> list[int]:
    """`count` loopback ports that are free, with their bus ports (+10000) free too; all
    below Linux's ephemeral range (32768-), so no outgoing connection takes one meanwhile."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20000, 22767)
        if port not in ports and _port_free(port) and _port_free(port + 10000):
            ports.append(port)
    return ports


def _poll(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(syncredis.RedisError, OSError):
            if check():
                return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@dataclass(frozen=True, slots=True)
class ClusterNodeInfo:
    """One node as CLUSTER NODES describes it."""

    port: int
    node_id: str
    master: bool
    failed: bool
    master_id: str  # "-" for a master
    slots: tuple[tuple[int, int], ...]


class LocalRedisCluster:
    """Masters with their replicas (3 + 3 by default), one redis-server process each;
    `url` names the first node."""

    def __init__(self, folder: Path, masters: int = 3, replicas_per_master: int = 1) -> None:
        self.folder = folder
        self.masters = masters
        self.replicas_per_master = replicas_per_master
        self.ports = cluster_ports(masters * (1 + replicas_per_master))
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        """A redis:// URL of one node (any node lets a cluster client find the rest)."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def live_url(self) -> str:
        """A redis:// URL of a node that runs now."""
        return f"redis://127.0.0.1:{self.live_ports()[0]}/0"

    def client(self, port: int) -> syncredis.Redis:
        """A plain client of one node."""
        return syncredis.Redis(host="127.0.0.1", port=port, socket_timeout=5)

    def start(self) -> LocalRedisCluster:
        """Start every node, create the cluster and wait until every node says it is ok."""
        binary = shutil.which("redis-server")
        cli = shutil.which("redis-cli")
        if binary is None or cli is None:
            pytest.skip("redis-server / redis-cli (Debian redis-server, redis-tools) missing")
        for index in range(len(self.ports)):
            self._start_node_on_free_port(binary, index)
        if self.masters >= 3:
            nodes = [f"127.0.0.1:{p}" for p in self.ports]
            replicas = str(self.replicas_per_master)
            create = ["--cluster", "create", *nodes, "--cluster-replicas", replicas]
            subprocess.run(
                [cli, *create, "--cluster-yes"],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
            )
        else:
            self._create_by_hand()
        self.wait_healthy()
        return self

    def _create_by_hand(self) -> None:
        """Form a cluster of fewer than 3 masters (which redis-cli refuses): meet, share the
        slots out, then attach the replicas."""
        masters, replicas = self.ports[: self.masters], self.ports[self.masters :]
        for port in self.ports[1:]:
            with self.client(port) as client:
                client.execute_command("CLUSTER", "MEET", "127.0.0.1", self.ports[0])
        share = 16384 // len(masters)
        for i, port in enumerate(masters):
            high = 16383 if i == len(masters) - 1 else (i + 1) * share - 1
            with self.client(port) as client:
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", i * share, high)

        def all_met() -> bool:
            return all(len(self.nodes(p)) == len(self.ports) for p in self.ports)

        _poll(all_met, START_TIMEOUT_S, "the nodes to meet")
        for i, port in enumerate(replicas):
            with self.client(masters[i % len(masters)]) as client:
                master_id = client.execute_command("CLUSTER", "MYID")
            with self.client(port) as client:
                client.execute_command("CLUSTER", "REPLICATE", master_id)

    def _start_node_on_free_port(self, binary: str, index: int, attempts: int = 3) -> None:
        """Start node `index`; if its port was taken meanwhile (the server exits), take
        another port and try again."""
        for _ in range(attempts):
            port = self.ports[index]
            self._start_node(binary, port)
            answers = functools.partial(self._answers, port)
            with contextlib.suppress(AssertionError):
                _poll(answers, START_TIMEOUT_S, f"node {port}")
                return
            failed = self.procs.pop(port)
            failed.kill()
            failed.wait(timeout=10)
            self.ports[index] = next(p for p in cluster_ports(1) if p not in self.ports)
        raise AssertionError(f"no redis-server started after {attempts} ports")

    def _answers(self, port: int) -> bool:
        if self.procs[port].poll() is not None:
            raise AssertionError(f"redis-server on {port} exited")
        with self.client(port) as client:
            return bool(client.ping())

    def _start_node(self, binary: str, port: int) -> None:
        folder = self.folder / str(port)
        folder.mkdir(parents=True, exist_ok=True)
        args = [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
            "--cluster-replica-validity-factor", "0",
            "--cluster-require-full-coverage", "no",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(folder),
            "--logfile", str(folder / "redis.log"),
        ]  # fmt: skip
        self.procs[port] = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def nodes(self, via_port: int | None = None) -> list[ClusterNodeInfo]:
        """Every node as a live node sees the cluster."""
        port = via_port if via_port is not None else self.live_ports()[0]
        found = []
        for line in self._cluster_command(port, "NODES").splitlines():
            parts = line.split()
            flags = parts[2].split(",")
            ranges = []
            for part in parts[8:]:
                if part.startswith("["):
                    continue  # a slot being migrated
                low, _, high = part.partition("-")
                ranges.append((int(low), int(high or low)))
            found.append(
                ClusterNodeInfo(
                    port=int(parts[1].split("@")[0].rsplit(":", 1)[1]),
                    node_id=parts[0],
                    master="master" in flags,
                    failed="fail" in flags or "fail?" in flags,
                    master_id=parts[3],
                    slots=tuple(ranges),
                )
            )
        return found

    def _cluster_command(self, port: int, sub: str) -> str:
        """The raw text of a CLUSTER subcommand (sent so that redis-py does not parse it)."""
        with self.client(port) as client:
            reply = client.execute_command("CLUSTER", sub)
        return reply.decode() if isinstance(reply, bytes) else str(reply)

    def live_ports(self) -> list[int]:
        """Ports of the nodes whose process runs."""
        return [p for p, proc in self.procs.items() if proc.poll() is None]

    def master_of_slot(self, slot: int) -> int:
        """The port of the master that serves a slot now."""
        for node in self.nodes():
            if node.master and not node.failed and any(lo <= slot <= hi for lo, hi in node.slots):
                return node.port
        raise LookupError(f"no live master serves slot {slot}")

    def master_of_key(self, key: str) -> int:
        """The port of the master that serves a key now."""
        return self.master_of_slot(key_slot(key.encode()))

    def replica_of(self, master_port: int) -> int:
        """The port of a live replica of the master on `master_port`."""
        nodes = self.nodes()
        master = next(n for n in nodes if n.port == master_port)
        for node in nodes:
            if node.master_id == master.node_id and not node.failed:
                return node.port
        raise LookupError(f"master {master_port} has no live replica")

    def move_slot(self, slot: int, to_port: int) -> None:
        """Hand an empty slot to another master the way resharding does, and wait until every
        node agrees."""
        nodes = self.nodes()
        source = next(n for n in nodes if n.port == self.master_of_slot(slot))
        target = next(n for n in nodes if n.port == to_port)
        with self.client(target.port) as client:
            client.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source.node_id)
        with self.client(source.port) as client:
            client.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target.node_id)
        for node in [target, source] + [n for n in nodes if n.master and n not in (source, target)]:
            with self.client(node.port) as client:
                client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target.node_id)

        def agreed() -> bool:
            return all(self._serves(port, slot) == to_port for port in self.live_ports())

        _poll(agreed, START_TIMEOUT_S, f"every node to see slot {slot} on {to_port}")

    def _serves(self, via_port: int, slot: int) -> int:
        for node in self.nodes(via_port):
            if node.master and any(lo <= slot <= hi for lo, hi in node.slots):
                return node.port
        return -1

    def wait_healthy(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Wait until every live node reports cluster_state:ok, every slot is served by a live
        master, and every master has an in-sync replica (when the shard still has one)."""

        def healthy() -> bool:
            for port in self.live_ports():
                text = self._cluster_command(port, "INFO")
                if "cluster_state:ok" not in text or "cluster_slots_ok:16384" not in text:
                    return False
                with self.client(port) as client:
                    replication = client.info("replication")
                link = replication.get("master_link_status")
                if replication.get("role") == "slave" and link != "up":
                    return False
            live = set(self.live_ports())
            masters = [n for n in self.nodes() if n.master and n.slots]
            return len(masters) == self.masters and all(n.port in live for n in masters)

        _poll(healthy, timeout_s, "the Redis Cluster to be healthy")

    def kill(self, port: int) -> None:
        """kill -9 one node (no shutdown, no save): a crash."""
        proc = self.procs[port]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        """Stop every node and delete their folders."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        self.procs.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
