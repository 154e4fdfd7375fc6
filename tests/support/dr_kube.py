"""The cluster of the DR drill tests: kmock behind a front that serves what kmock cannot — Namespaces as objects
(kmock reads ``/api/v1/namespaces/<name>`` as a namespace prefix) and the API server's service proxy (answered
200 when the Service exists in kmock's objects, as a restored one does, else 503 as the API server answers a Service
with no endpoints) — and forwards everything else to kmock. Every request is recorded (``requests``); ``without``
answers an API group 404 as a cluster without that CRD does. The test plays Velero's controller: it reads the
Restore the bot made, puts what Velero would restore into the scratch namespaces and moves the Restore's status."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import redis
import yaml

from bot.core import keys
from tests.support.aws import Moto
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.cluster_seed import iso
from tests.support.dr_seed import ITEMS, SOURCE, deployment, pvc, rds_seed, seed, service
from tests.support.harness import Bot
from tests.support.kube import KubeEmulator, plain
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder
from tests.support.standin import Reply, Request, StandIn, forward

RESTORES = "velero.io/v1/restores"
DRILL_LABEL = "chatops.dev/dr-drill"
ATTEMPT = "chatops.dev/dr-drill-attempt"
_NAMESPACE = re.compile(r"^/api/v1/namespaces/([^/]+)$")
_PROXY = re.compile(r"^/api/v1/namespaces/([^/]+)/services/([^/:]+)(?::[^/]+)?/proxy(/.*)?$")
_MISSING = {"kind": "Status", "code": 404, "reason": "NotFound", "message": "the server could not find the resource"}


def namespace(
    name: str,
    drill: str | None = None,
    started: datetime | None = None,
    created: datetime | None = None,
    *,
    attempt: str | None = None,
    terminating: bool = False,
) -> dict[str, Any]:
    """A Namespace; with ``drill``, a drill's scratch namespace (its label and attempt, and when it was made);
    ``terminating``: being deleted (its DELETE is answered 409, as the API server does)."""
    meta: dict[str, Any] = {"name": name, "labels": {}, "creationTimestamp": iso(created or datetime.now(UTC))}
    if drill is not None:
        meta["labels"] = {DRILL_LABEL: drill, "app.kubernetes.io/managed-by": "chatops-bot"}
        if attempt is not None:
            meta["labels"][ATTEMPT] = attempt
    if started is not None:
        meta["annotations"] = {"chatops.dev/dr-drill-started": started.isoformat()}
    if terminating:
        meta["deletionTimestamp"] = iso(datetime.now(UTC))
    phase = "Terminating" if terminating else "Active"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta, "status": {"phase": phase}}


class DrillCluster(StandIn):
    def __init__(self, kube: KubeEmulator) -> None:
        super().__init__()
        self.kube = kube
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.without: set[str] = set()  # API path prefixes answered 404 (a CRD not installed)
        self.failing: dict[str, int] = {}  # namespace name prefixes whose DELETE is answered with this status

    def handle(self, request: Request) -> Reply:
        if any(request.path.startswith(prefix) for prefix in self.without):
            return Reply(404, _MISSING)
        if request.path == "/api/v1/namespaces":
            return self._collection(request)
        one = _NAMESPACE.match(request.path)
        if one:
            return self._one(request, one.group(1))
        proxy = _PROXY.match(request.path)
        if proxy and request.method == "GET":
            key = ("services", proxy.group(1), proxy.group(2))
            if self.kube.call(lambda: any((k[0].plural, k[1], k[2]) == key for k in self.kube.emulator.objects)):
                return Reply(200, b"ok")
            return Reply(503, {"kind": "Status", "code": 503, "message": "no endpoints available for service"})
        return forward(request, self.kube.url)

    def _collection(self, request: Request) -> Reply:
        with self.lock:
            if request.method == "POST":
                body = request.json()
                name = body["metadata"]["name"]
                if name in self.namespaces:
                    return Reply(409, {"kind": "Status", "code": 409, "reason": "AlreadyExists"})
                body["metadata"].setdefault("creationTimestamp", iso(datetime.now(UTC)))
                self.namespaces[name] = body
                return Reply(201, body)
            wanted = request.param("labelSelector")
            items = [n for n in self.namespaces.values() if not wanted or wanted in (n["metadata"].get("labels") or {})]
            return Reply(200, {"kind": "NamespaceList", "metadata": {}, "items": items})

    def _one(self, request: Request, name: str) -> Reply:
        with self.lock:
            found = self.namespaces.get(name)
            if found is None:
                return Reply(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
            if request.method == "DELETE":
                failing = next((code for prefix, code in self.failing.items() if name.startswith(prefix)), None)
                if failing is not None:
                    return Reply(
                        failing, {"kind": "Status", "code": failing, "message": "etcdserver: request timed out"}
                    )
                if found["metadata"].get("deletionTimestamp"):
                    message = "The system is ensuring all content is removed from this namespace."
                    return Reply(409, {"kind": "Status", "code": 409, "reason": "Conflict", "message": message})
                del self.namespaces[name]
                self.kube.call(lambda: self._empty(name))  # and everything in it, as the namespace controller does
            return Reply(200, found)

    def _empty(self, name: str) -> None:
        objects = self.kube.emulator.objects
        for key in [k for k in objects if k[1] == name]:
            del objects[key]

    # What the bot did -----------------------------------------------------------------------------------------
    def scratch(self) -> list[str]:
        with self.lock:
            return sorted(n for n, o in self.namespaces.items() if DRILL_LABEL in (o["metadata"].get("labels") or {}))

    def writes(self, fragment: str) -> list[str]:
        """Every write (not a GET) whose path names ``fragment``: the front's and kmock's."""
        with self.lock:
            mine = [f"{r.method} {r.path}" for r, _ in self.requests if r.method != "GET" and fragment in r.path]
        return mine + [w for w in self.kmock_writes() if fragment in w]

    def kmock_writes(self) -> list[str]:
        def read() -> list[str]:
            made = [(str(r.method).upper().rsplit(".", 1)[-1], r.url.path) for r in self.kube.emulator]
            return [f"{method} {url}" for method, url in made if method != "GET"]

        return list(self.kube.call(read))

    def deletes(self, name: str) -> int:
        """How many DELETEs of the namespace the bot sent."""
        with self.lock:
            return sum(1 for r, _ in self.requests if r.method == "DELETE" and r.path == f"/api/v1/namespaces/{name}")

    def reads(self, fragment: str) -> int:
        """How many GETs whose path ends with ``fragment``."""
        with self.lock:
            return sum(1 for r, _ in self.requests if r.method == "GET" and r.path.endswith(fragment))

    def probes(self) -> list[str]:
        with self.lock:
            return [r.path for r, _ in self.requests if "/proxy" in r.path]

    def kubeconfig(self, path: Path) -> Path:
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "emu", "cluster": {"server": self.url}}],
                    "users": [{"name": "bot", "user": {"token": "kmock-test-token"}}],
                    "contexts": [{"name": "emu", "context": {"cluster": "emu", "user": "bot"}}],
                    "current-context": "emu",
                }
            )
        )
        return path

    # Velero's controller, played ------------------------------------------------------------------------------
    def restores(self) -> dict[str, dict[str, Any]]:
        def read() -> dict[str, dict[str, Any]]:
            return {k[2]: plain(o) for k, o in self.kube.emulator.objects.items() if k[0] == RESTORES}

        return dict(self.kube.call(read))

    def drill_restores(self, drill: str | None = None) -> list[dict[str, Any]]:
        """The Restores a drill made (of ``drill``, or of any)."""
        found = [r for r in self.restores().values() if DRILL_LABEL in (r["metadata"].get("labels") or {})]
        return [r for r in found if drill is None or r["metadata"]["labels"][DRILL_LABEL] == drill]

    def new_restore(self, before: set[str], timeout: float = 20) -> dict[str, Any]:
        """The drill's Restore made since ``before`` (the names there were then)."""

        def made() -> dict[str, Any] | None:
            return next((r for r in self.drill_restores() if r["metadata"]["name"] not in before), None)

        found = wait_for(made, timeout=timeout, what="the drill's Restore")
        assert isinstance(found, dict)
        return found

    def object(self, resource: str, namespace: str | None, name: str) -> dict[str, Any]:
        found = self.kube.call(lambda: plain(self.kube.emulator.objects[resource, namespace, name]))
        assert isinstance(found, dict)
        return found

    def put(self, resource: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        key = (resource, meta.get("namespace"), meta["name"])
        self.kube.call(lambda: self.kube.emulator.objects.__setitem__(key, obj))

    def restore_into(self, restore: dict[str, Any], *, available: int = 2, claim: str = "Bound") -> None:
        """What Velero restores of the backup into each scratch namespace: the Deployment, its PVC, its Service."""
        for target in restore["spec"]["namespaceMapping"].values():
            self.put("apps/v1/deployments", deployment("api-gateway", target, available=available))
            self.put("v1/persistentvolumeclaims", pvc("data", target, claim))
            self.put("v1/services", service("api-gateway", target))

    def leftover_restore(
        self, name: str, drill: str, attempt: str, mapping: dict[str, str], phase: str = "Completed"
    ) -> dict[str, Any]:
        """A Restore an earlier drill (attempt) made, in ``phase``."""
        obj = {
            "apiVersion": "velero.io/v1",
            "kind": "Restore",
            "metadata": {
                "name": name, "namespace": "velero", "creationTimestamp": iso(datetime.now(UTC)),
                "labels": {DRILL_LABEL: drill, ATTEMPT: attempt, "app.kubernetes.io/managed-by": "chatops-bot"},
            },
            "spec": {"backupName": "daily-backup-20261201020000", "includedNamespaces": sorted(mapping),
                     "namespaceMapping": mapping},
            "status": {"phase": phase},
        }  # fmt: skip
        self.put(RESTORES, obj)
        return obj

    def remove(self, resource: str, namespace: str | None, name: str) -> None:
        def drop() -> None:
            if (resource, namespace, name) in self.kube.emulator.objects:
                del self.kube.emulator.objects[resource, namespace, name]

        self.kube.call(drop)

    def move(self, name: str, **status: Any) -> None:
        """The Restore's status moves on (Velero at work)."""

        def apply() -> None:
            obj = plain(self.kube.emulator.objects[RESTORES, "velero", name])
            obj["status"] = {**(obj.get("status") or {}), **status}
            self.kube.emulator.objects[RESTORES, "velero", name] = obj

        self.kube.call(apply)

    def complete(
        self, restore: dict[str, Any], restored: int, total: int, phase: str = "Completed", **more: Any
    ) -> None:
        name = restore["metadata"]["name"]
        self.move(name, phase="InProgress", progress={"totalItems": total, "itemsRestored": restored // 2})
        self.move(name, phase=phase, progress={"totalItems": total, "itemsRestored": restored}, **more)


# The drill tests' bot, cluster and moto (module fixtures), and what they do and read ----------------------------
CONFIG = """
channels: {incidents: C0INCIDENTS, digest: C0HEALTH}
permissions: {operators: [U0OPS, U0OPS2]}
kubernetes: {clusters: [{name: emu, context: emu}]}
velero: {namespace: velero}
aws: {region: us-east-1, rds: {instances: [prod-db]}}
dr:
  cron: "{cron}"
  velero: {schedules: [daily-backup]}
  rds: true
  rto_target: 30m
  max_age: 6h
  timeout: 20m
  checks: [{service: production/api-gateway, path: /health}]
"""
NEVER = "0 3 1 1 *"  # the module's bot: no scheduled drill while its clock is moved on by minutes
NETWORK: dict[str, str] = {}  # prod-db's subnet group, security group and newest snapshot (rds_seed)


# Fixtures ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module", name="cluster")
def cluster_fixture() -> Iterator[DrillCluster]:
    emulator = KubeEmulator().start()
    emulator.seed(seed(datetime.now(UTC)))
    front = DrillCluster(emulator)
    front.start()
    for name in (SOURCE, "staging", "velero"):
        front.namespaces[name] = namespace(name)
    yield front
    front.stop()
    emulator.stop()


@pytest.fixture(scope="module", name="moto")
def moto_fixture() -> Iterator[Moto]:
    server = Moto().start()
    NETWORK.update(rds_seed(server))
    yield server
    server.stop()


@pytest.fixture(scope="module", name="kubeconfig")
def kubeconfig_fixture(cluster: DrillCluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cluster.kubeconfig(tmp_path_factory.mktemp("dr-kube") / "kubeconfig")


def start_bot(directory: Path, recorder: SlackRecorder, redis_url: str, kubeconfig: Path, moto: Moto, **kw: Any) -> Bot:
    path = directory / f"chatops-{kw.get('name', 'dr')}.yaml"
    path.write_text(textwrap.dedent(kw.pop("config", CONFIG)).replace("{cron}", kw.pop("cron", NEVER)))
    return Bot(
        redis_url=redis_url,
        slack_api_url=recorder.api_url,
        config_path=path,
        log_path=directory / f"{kw.get('name', 'dr')}.log",
        extra_env={"KUBECONFIG": str(kubeconfig), **moto.env()},
        **kw,
    ).start()


@pytest.fixture(scope="module", name="bot")
def bot_fixture(
    tmp_path_factory: pytest.TempPathFactory,
    recorder: SlackRecorder,
    redis_server: RedisServer,
    kubeconfig: Path,
    moto: Moto,
) -> Iterator[Bot]:
    proc = start_bot(tmp_path_factory.mktemp("dr"), recorder, redis_server.url, kubeconfig, moto, name="dr-bot")
    yield proc
    proc.terminate()


@pytest.fixture(autouse=True, name="fresh")
def fresh_fixture(state: redis.Redis, cluster: DrillCluster, bot: Bot) -> Iterator[None]:
    """Each test starts with no drill kept or running, and leaves none running."""
    state.delete(keys.DR_LOCK, keys.DR_REPORTS, *state.keys("dr:tick:*"))
    yield
    bot.settled(timeout=30)
    state.delete(keys.DR_LOCK)
    cluster.without.clear()


# Helpers ----------------------------------------------------------------------------------------------------------
def drill(slack: SignedSlack, recorder: SlackRecorder, user: str = "U0OPS", text: str = "drill") -> tuple[str, int]:
    since = len(recorder.of("response_url"))
    return ack_text(slack.command(text, command="/dr", user=user)), since


def play_passing(cluster: DrillCluster, before: set[str]) -> dict[str, Any]:
    restore = cluster.new_restore(before)
    cluster.restore_into(restore)
    cluster.complete(restore, ITEMS, ITEMS)
    return restore


def names(cluster: DrillCluster) -> set[str]:
    return {r["metadata"]["name"] for r in cluster.drill_restores()}


def rds_calls(moto: Moto, action: str) -> list[dict[str, list[str]]]:
    with moto.front.lock:
        bodies = [parse_qs(r.body.decode()) for r, _ in moto.front.requests if r.body]
    return [b for b in bodies if b.get("Action") == [action]]


def deletes(moto: Moto, identifier: str) -> list[dict[str, list[str]]]:
    return [c for c in rds_calls(moto, "DeleteDBInstance") if c.get("DBInstanceIdentifier") == [identifier]]


def digest_posts(recorder: SlackRecorder, phrase: str = "DR drill") -> list[dict[str, Any]]:
    posts = [c.params for c in recorder.of("chat.postMessage") if c.params.get("channel") == "C0HEALTH"]
    return [p for p in posts if phrase in str(p.get("text"))]


def source_untouched(cluster: DrillCluster, moto: Moto) -> None:
    """Nothing was written to the source namespace or the source instance."""
    assert cluster.writes(f"/namespaces/{SOURCE}") == []
    assert SOURCE in cluster.namespaces and DRILL_LABEL not in cluster.namespaces[SOURCE]["metadata"]["labels"]
    for action in ("DeleteDBInstance", "ModifyDBInstance", "RebootDBInstance", "StopDBInstance"):
        assert [c for c in rds_calls(moto, action) if c.get("DBInstanceIdentifier") == ["prod-db"]] == []
    (source,) = moto.client("rds").describe_db_instances(DBInstanceIdentifier="prod-db")["DBInstances"]
    assert source["DBInstanceStatus"] == "available"
