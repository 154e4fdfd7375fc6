"""The change feed's cluster side against kmock's emulator: planted history (ReplicaSets, ControllerRevisions,
ConfigMaps, a Secret, Helm release secrets in their real encoding, an HPA and its scaling event, nodes, CronJobs)
read back in order, with times, summaries, managers and revisions; filters; a forbidden kind; no Secret content."""

from __future__ import annotations

import base64
import gzip
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from runbooks.errors import BadRequest
from runbooks.kube.client import Cluster
from runbooks.kube.errors import API_ERRORS
from runbooks.kube.history import helm
from runbooks.kube.history.kinds import rescale_summary
from runbooks.kube.history.model import Feed, Kind
from runbooks.kube.history.read import feed
from runbooks.kube.history.rollouts import image_change, split_image
from runbooks.kube.lean import config
from tests.support.cluster_seed import iso
from tests.support.kube import KubeEmulator

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SINCE, UNTIL = NOW - timedelta(hours=2), NOW
PROD = "production"
SECRET_KEY = "DB_PASSWORD_KEYNAME"
SECRET_VALUE = "hunter2-plaintext-value"
HELM_VALUE = "helm-values-secret-xyz"
HELM_MANIFEST = "manifest-line-should-never-show"

Obj = dict[str, Any]


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def meta(name: str, namespace: str | None, created: datetime, **extra: Any) -> Obj:
    out: Obj = {
        "name": name,
        "uid": f"uid-{namespace}-{name}",
        "resourceVersion": "1",
        "creationTimestamp": iso(created),
    }
    if namespace:
        out["namespace"] = namespace
    return out | extra


def entry(manager: str, at: datetime, fields: Obj | None = None, subresource: str | None = None) -> Obj:
    out: Obj = {
        "manager": manager,
        "operation": "Update",
        "apiVersion": "v1",
        "time": iso(at),
        "fieldsType": "FieldsV1",
    }
    out["fieldsV1"] = fields or {}
    if subresource:
        out["subresource"] = subresource
    return out


TEMPLATE_FIELDS = {"f:spec": {"f:template": {"f:spec": {"f:containers": {}}}}}


def template(*images: str) -> Obj:
    return {
        "spec": {"containers": [{"name": f"c{i}" if i else "app", "image": image} for i, image in enumerate(images)]}
    }


def deployment(namespace: str, name: str, revision: int, managed: list[Obj] | None = None, stuck: bool = False) -> Obj:
    status: Obj = {"replicas": 1}
    if stuck:
        status["conditions"] = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(
            name,
            namespace,
            ago(days=60),
            annotations={"deployment.kubernetes.io/revision": str(revision)},
            managedFields=managed or [],
        ),
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": template("x")},
        "status": status,
    }


def replicaset(
    namespace: str,
    owner: str,
    revision: int,
    image: str,
    created: datetime,
    *,
    cause: str | None = None,
    hash_: str | None = None,
    history: str | None = None,
    managed: list[Obj] | None = None,
) -> Obj:
    hash_ = hash_ or f"h{revision}"
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if cause:
        annotations["kubernetes.io/change-cause"] = cause
    if history:
        annotations["deployment.kubernetes.io/revision-history"] = history
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": meta(
            f"{owner}-{hash_}",
            namespace,
            created,
            labels={"app": owner, "pod-template-hash": hash_},
            annotations=annotations,
            ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": owner, "controller": True}],
            managedFields=managed or [entry("kube-controller-manager", created, {"f:metadata": {}})],
        ),
        "spec": {"template": template(image)},
    }


def controller_revision(owner: str, revision: int, image: str, created: datetime) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": meta(
            f"{owner}-cr{revision}",
            PROD,
            created,
            labels={"controller-revision-hash": f"cr{revision}"},
            ownerReferences=[{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": owner, "controller": True}],
            managedFields=[entry("kube-controller-manager", created, {"f:data": {}})],
        ),
        "revision": revision,
        "data": {"spec": {"template": {"$patch": "replace", **template(image)}}},
    }


def release_data(doc: Obj) -> str:
    """Helm's real encoding: gzip of the JSON, base64 (Helm's), then base64 again (Kubernetes' ``data``)."""
    helm_string = base64.b64encode(gzip.compress(json.dumps(doc).encode()))
    return base64.b64encode(helm_string).decode()


def release_secret(
    name: str, revision: int, status: str, deployed: str, created: datetime, data: str | None = None
) -> Obj:
    doc = {
        "name": name,
        "namespace": PROD,
        "version": revision,
        "info": {"first_deployed": "2026-01-01T00:00:00Z", "last_deployed": deployed, "status": status, "notes": "x"},
        "chart": {
            "metadata": {"name": name, "version": "1.4.0", "appVersion": "2.4.2"},
            "values": {"password": HELM_VALUE},
            "templates": [],
        },
        "config": {"password": HELM_VALUE},
        "manifest": HELM_MANIFEST,
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": meta(
            f"sh.helm.release.v1.{name}.v{revision}",
            PROD,
            created,
            labels={"owner": "helm", "name": name, "version": str(revision), "status": status},
        ),
        "data": {"release": data if data is not None else release_data(doc)},
    }


def event(name: str, namespace: str, reason: str, involved: Obj, at: datetime, message: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": meta(name, namespace, at),
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": "Normal",
        "count": 1,
        "firstTimestamp": iso(at),
        "lastTimestamp": iso(at),
    }


def node(name: str, created: datetime, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta(
            name,
            None,
            created,
            labels={"node.kubernetes.io/instance-type": "m5.large"},
            managedFields=[entry("kubelet", created, {"f:metadata": {}})],
        ),
        "spec": spec,
    }


def objects() -> dict[str, list[Obj]]:
    cordoned = node(
        "node-cordoned",
        ago(days=100),
        unschedulable=True,
        taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": iso(ago(minutes=45))}],
    )
    cordoned["metadata"]["managedFields"].append(
        entry("kubectl-cordon", ago(minutes=45), {"f:spec": {"f:unschedulable": {}}})
    )
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": meta(
            "db-credentials",
            PROD,
            ago(days=30),
            annotations={"note": SECRET_VALUE},
            managedFields=[
                entry("kubectl-create", ago(days=30), {"f:data": {f"f:{SECRET_KEY}": {}}}),
                entry("kubectl-edit", ago(minutes=50), {"f:data": {f"f:{SECRET_KEY}": {}}}),
            ],
        ),
        "data": {SECRET_KEY: base64.b64encode(SECRET_VALUE.encode()).decode()},
    }
    token = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": meta(
            "builder-token", PROD, ago(minutes=5), annotations={"kubernetes.io/service-account.name": "b"}
        ),
        "data": {"token": base64.b64encode(b"sa-token-value").decode()},
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta(
            "api-gateway",
            PROD,
            ago(days=30),
            managedFields=[
                entry("kubectl-patch", ago(minutes=25), {"f:spec": {"f:maxReplicas": {}}}),
                entry("kube-controller-manager", ago(minutes=1), {"f:status": {}}, subresource="status"),
            ],
        ),
        "spec": {
            "minReplicas": 2,
            "maxReplicas": 10,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api-gateway"},
        },
    }
    hpa_ref = {
        "kind": "HorizontalPodAutoscaler",
        "namespace": PROD,
        "name": "api-gateway",
        "apiVersion": "autoscaling/v2",
    }
    return {
        "apps/v1/deployments": [
            deployment(
                PROD,
                "api-gateway",
                7,
                managed=[
                    entry("argocd-controller", ago(minutes=20) + timedelta(seconds=3), TEMPLATE_FIELDS),
                    entry("kube-controller-manager", ago(minutes=1), {"f:status": {}}, subresource="status"),
                ],
            ),
            deployment(PROD, "web", 3),
            deployment("staging", "worker", 2, stuck=True),
        ],
        "apps/v1/replicasets": [
            replicaset(PROD, "api-gateway", 5, "registry/api-gateway:2.4.0", ago(minutes=110), cause="deploy 2.4.0"),
            replicaset(PROD, "api-gateway", 6, "registry/api-gateway:2.4.1", ago(minutes=60), cause="deploy 2.4.1"),
            replicaset(PROD, "api-gateway", 7, "registry/api-gateway:2.4.2", ago(minutes=20), cause="deploy 2.4.2"),
            replicaset(PROD, "api-gateway", 4, "registry/api-gateway:2.3.9", ago(days=9)),  # outside the range
            # web: 1 (1.0) → 2 (1.1) → rolled back to 1.0, whose ReplicaSet became revision 3
            replicaset(
                PROD,
                "web",
                3,
                "web:1.0",
                ago(days=2),
                hash_="ha",
                history="1",
                managed=[entry("kube-controller-manager", ago(minutes=30), {"f:metadata": {}})],
            ),
            replicaset(PROD, "web", 2, "web:1.1", ago(minutes=90), hash_="hb"),
            replicaset("staging", "worker", 1, "registry-a/worker:1.0", ago(days=10)),
            replicaset("staging", "worker", 2, "registry-b/worker:1.1", ago(minutes=100)),
        ],
        "apps/v1/statefulsets": [
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": meta(
                    "db",
                    PROD,
                    ago(days=90),
                    managedFields=[entry("helm", ago(minutes=80) - timedelta(seconds=2), TEMPLATE_FIELDS)],
                ),
                "spec": {"template": template("postgres:15.6")},
            }
        ],
        "apps/v1/controllerrevisions": [
            controller_revision("db", 1, "postgres:15.5", ago(days=20)),
            controller_revision("db", 2, "postgres:15.6", ago(minutes=80)),
        ],
        "v1/configmaps": [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": meta(
                    "api-config",
                    PROD,
                    ago(days=30),
                    managedFields=[
                        entry("kubectl-client-side-apply", ago(days=30), {"f:data": {}}),
                        entry("kubectl-edit", ago(minutes=40), {"f:data": {"f:LOG_LEVEL": {}}}),
                    ],
                ),
                "data": {"LOG_LEVEL": "debug"},
            },
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": meta(
                    "fresh-config",
                    "staging",
                    ago(minutes=10),
                    managedFields=[entry("kubectl-client-side-apply", ago(minutes=10), {"f:data": {}})],
                ),
                "data": {"a": "b"},
            },
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("old-config", PROD, ago(days=30)), "data": {}},
        ],
        "v1/secrets": [
            secret,
            token,
            release_secret("my-app", 3, "deployed", "2026-03-02T12:45:00.123456789+01:00", ago(minutes=15)),
            release_secret("my-app", 2, "failed", iso(ago(minutes=95)), ago(minutes=95)),
            # an old revision is not decoded at all (its data is not a release: decoding it would be a problem line)
            release_secret("my-app", 1, "superseded", iso(ago(days=20)), ago(days=20), data="not a release"),
        ],
        "autoscaling/v2/horizontalpodautoscalers": [hpa],
        "v1/events": [
            event(
                "hpa-rescale",
                PROD,
                "SuccessfulRescale",
                hpa_ref,
                ago(minutes=12),
                "New size: 8; reason: cpu resource utilization (percentage of request) above target",
            ),
            event("pod-pulled", PROD, "Pulled", {"kind": "Pod", "namespace": PROD, "name": "p"}, ago(minutes=3), "x"),
            # one node's removal said twice: one change, at the newest
            event("gone-2", "default", "RemovingNode", {"kind": "Node", "name": "node-gone"}, ago(minutes=55), "x"),
            event("gone-1", "default", "DeletingNode", {"kind": "Node", "name": "node-gone"}, ago(minutes=56), "x"),
            event("old-gone", "default", "RemovingNode", {"kind": "Node", "name": "node-older"}, ago(hours=5), "x"),
        ],
        "v1/nodes": [cordoned, node("node-new", ago(minutes=35)), node("node-old", ago(days=100))],
        "batch/v1/cronjobs": [
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": meta(
                    "report",
                    "batch",
                    ago(days=10),
                    managedFields=[
                        entry("helm", ago(days=10), {"f:spec": {"f:schedule": {}}}),
                        entry("kubectl-patch", ago(minutes=70), {"f:spec": {"f:suspend": {}}}),
                    ],
                ),
                "spec": {"schedule": "0 * * * *", "suspend": True},
            },
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": meta("cleanup", "batch", ago(minutes=65)),  # suspended from its creation
                "spec": {"schedule": "0 4 * * *", "suspend": True},
            },
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": meta("nightly", "batch", ago(minutes=5)),
                "spec": {"schedule": "0 3 * * *", "suspend": False},
            },
        ],
    }


def requested(emulator: KubeEmulator) -> set[str]:
    """The paths the emulator was asked for (but ``/version``)."""
    paths = emulator.call(lambda: [str(request.url.path) for request in emulator.emulator])
    return {p for p in paths if not p.startswith("/version")}


def _cluster(emulator: KubeEmulator, tmp: Path) -> Cluster:
    kubeconfig = emulator.kubeconfig(tmp / "kubeconfig")
    return Cluster("emu", config.new_client_from_config(config_file=str(kubeconfig)))


@pytest.fixture
def emulator() -> Iterator[KubeEmulator]:
    emu = KubeEmulator().start()
    emu.seed(objects())
    yield emu
    emu.stop()


@pytest.fixture
def cluster(emulator: KubeEmulator, tmp_path: Path) -> Cluster:
    return _cluster(emulator, tmp_path)


Row = tuple[datetime, Kind, str | None, str, str, str | None, int | None, bool]


def rows(result: Feed) -> list[Row]:
    return [(c.at, c.kind, c.namespace, c.name, c.summary, c.by, c.revision, c.failed) for c in result.changes]


R, C, S, H, HE, SC = Kind.ROLLOUT, Kind.CONFIG, Kind.SECRET, Kind.HPA, Kind.HELM, Kind.SCALED
EVERYTHING: list[Row] = [
    (ago(minutes=10), C, "staging", "fresh-config", "ConfigMap created", "kubectl-client-side-apply", None, False),
    (ago(minutes=12), SC, PROD, "api-gateway", "scaled to 8 (cpu above target)", None, None, False),
    (
        ago(minutes=15) + timedelta(seconds=0.123456),
        HE,
        PROD,
        "my-app",
        "helm my-app chart 1.4.0 (app 2.4.2) rev 3 deployed",
        "my-app-1.4.0",
        3,
        False,
    ),
    (
        ago(minutes=20),
        R,
        PROD,
        "api-gateway",
        "rollout 2.4.1 → 2.4.2 (rev 7): deploy 2.4.2",
        "argocd-controller",
        7,
        False,
    ),
    (ago(minutes=25), H, PROD, "api-gateway", "HPA min 2 max 10", "kubectl-patch", None, False),
    (ago(minutes=30), R, PROD, "web", "rollback 1.1 → 1.0 (rev 3)", None, 3, False),
    (ago(minutes=35), Kind.NODE_JOINED, None, "node-new", "node joined (m5.large)", "kubelet", None, False),
    (ago(minutes=40), C, PROD, "api-config", "ConfigMap changed", "kubectl-edit", None, False),
    (ago(minutes=45), Kind.NODE_CORDONED, None, "node-cordoned", "node cordoned", "kubectl-cordon", None, False),
    (ago(minutes=50), S, PROD, "db-credentials", "Secret changed", "kubectl-edit", None, False),
    (ago(minutes=55), Kind.NODE_REMOVED, None, "node-gone", "node removed (RemovingNode)", None, None, False),
    (ago(minutes=60), R, PROD, "api-gateway", "rollout 2.4.0 → 2.4.1 (rev 6): deploy 2.4.1", None, 6, False),
    (ago(minutes=65), Kind.CRONJOB_SUSPENDED, "batch", "cleanup", "CronJob suspended", None, None, False),
    (ago(minutes=70), Kind.CRONJOB_SUSPENDED, "batch", "report", "CronJob suspended", "kubectl-patch", None, False),
    (ago(minutes=80), R, PROD, "db", "rollout 15.5 → 15.6 (rev 2)", "helm", 2, False),
    (ago(minutes=90), R, PROD, "web", "rollout 1.0 → 1.1 (rev 2)", None, 2, True),
    (ago(minutes=95), HE, PROD, "my-app", "helm my-app chart 1.4.0 (app 2.4.2) rev 2 failed", "my-app-1.4.0", 2, True),
    (
        ago(minutes=100),
        R,
        "staging",
        "worker",
        "rollout registry-a/worker:1.0 → registry-b/worker:1.1 (rev 2)",
        None,
        2,
        True,
    ),
    (ago(minutes=110), R, PROD, "api-gateway", "rollout 2.3.9 → 2.4.0 (rev 5): deploy 2.4.0", None, 5, False),
]


def test_the_whole_cluster_newest_first_with_times_summaries_managers_and_revisions(cluster: Cluster) -> None:
    result = feed(cluster, SINCE, UNTIL)
    assert result.problems == []
    assert rows(result) == EVERYTHING
    assert all(c.at.tzinfo is not None and c.at.utcoffset() == timedelta(0) for c in result.changes)
    by_name = {(c.name, c.revision): c for c in result.changes if c.kind == Kind.ROLLOUT}
    assert by_name["api-gateway", 7].workload == "deployment/api-gateway"
    assert by_name["db", 2].workload == "statefulset/db"
    scaled = next(c for c in result.changes if c.kind == Kind.SCALED)
    hpa = next(c for c in result.changes if c.kind == Kind.HPA)
    assert scaled.workload == hpa.workload == "deployment/api-gateway"
    cronjobs = [c.workload for c in result.changes if c.kind == Kind.CRONJOB_SUSPENDED]
    assert cronjobs == ["cronjob/cleanup", "cronjob/report"]
    assert (result.cluster, result.since, result.until) == ("emu", SINCE, UNTIL)


def test_no_secret_content_appears_anywhere(cluster: Cluster) -> None:
    dumped = feed(cluster, NOW - timedelta(days=365), UNTIL).model_dump_json()
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    for leaked in (SECRET_KEY, SECRET_VALUE, encoded, HELM_VALUE, HELM_MANIFEST, "sa-token-value", "builder-token"):
        assert leaked not in dumped, leaked
    assert "db-credentials" in dumped  # the Secret is named, and only that
    assert "LOG_LEVEL" not in dumped and "debug" not in dumped  # nor a ConfigMap's content


def test_a_namespace_reads_only_that_namespace_and_no_nodes(cluster: Cluster, emulator: KubeEmulator) -> None:
    result = feed(cluster, SINCE, UNTIL, namespace=PROD)
    assert rows(result) == [r for r in EVERYTHING if r[2] == PROD]
    paths = requested(emulator)
    assert not any("nodes" in p for p in paths)
    assert paths and all(p.split("/namespaces/")[1].startswith("production/") for p in paths), paths


def test_a_workload_narrows_to_its_rollouts_and_hpa_and_its_namespace_config(cluster: Cluster) -> None:
    result = feed(cluster, SINCE, UNTIL, namespace=PROD, workload="deployment/api-gateway")
    assert [(c.kind, c.name, c.revision) for c in result.changes] == [
        (SC, "api-gateway", None),
        (HE, "my-app", 3),
        (R, "api-gateway", 7),
        (H, "api-gateway", None),
        (C, "api-config", None),
        (S, "db-credentials", None),
        (R, "api-gateway", 6),
        (HE, "my-app", 2),
        (R, "api-gateway", 5),
    ]
    sts = feed(cluster, SINCE, UNTIL, namespace=PROD, workload="statefulset/db", kinds={Kind.ROLLOUT, Kind.HPA})
    assert [(c.name, c.revision, c.workload) for c in sts.changes] == [("db", 2, "statefulset/db")]
    cron = feed(cluster, SINCE, UNTIL, namespace="batch", workload="cronjob/report")
    assert [(c.kind, c.name) for c in cron.changes] == [(Kind.CRONJOB_SUSPENDED, "report")]


def test_the_range_is_inclusive_and_bounds_every_kind(cluster: Cluster) -> None:
    since, until = ago(minutes=60), ago(minutes=20)  # exactly revision 6 and revision 7
    result = feed(cluster, since, until)
    assert rows(result) == [r for r in EVERYTHING if since <= r[0] <= until]
    assert result.changes[0].revision == 7 and result.changes[-1].revision == 6
    earlier = feed(cluster, ago(days=10, minutes=1), ago(days=8))
    assert [(c.name, c.summary) for c in earlier.changes] == [
        ("api-gateway", "rollout 2.3.9 (rev 4)"),  # the oldest kept: what came before is not known
        ("worker", "rollout 1.0 (rev 1)"),
    ]
    naive = feed(cluster, SINCE.replace(tzinfo=None), UNTIL.replace(tzinfo=None))  # naive times are UTC
    assert rows(naive) == EVERYTHING


def test_only_the_kinds_asked_are_read(cluster: Cluster, emulator: KubeEmulator) -> None:
    emulator.react("v1/secrets", 403)  # not asked for: never read, so not a problem
    result = feed(cluster, SINCE, UNTIL, kinds={Kind.CONFIG, Kind.NODE_CORDONED})
    assert rows(result) == [r for r in EVERYTHING if r[1] in (C, Kind.NODE_CORDONED)]
    assert result.problems == []
    paths = requested(emulator)
    assert paths == {"/api/v1/configmaps", "/api/v1/nodes"}
    assert feed(cluster, SINCE, UNTIL, kinds={Kind.BOT}).changes == []  # the bot's own changes are not the cluster's


def test_a_forbidden_kind_is_one_problem_line_and_the_rest_is_read(cluster: Cluster, emulator: KubeEmulator) -> None:
    emulator.react("v1/configmaps", 403)
    result = feed(cluster, SINCE, UNTIL)
    assert result.problems == [
        "ConfigMaps: forbidden: the bot's identity may not list configmaps (add get/list on configmaps to its RBAC role)"
    ]
    assert rows(result) == [r for r in EVERYTHING if r[1] != C]


def test_kinds_the_cluster_never_had_are_none_not_problems(tmp_path: Path) -> None:
    emu = KubeEmulator().start()
    try:
        emu.seed({"v1/configmaps": objects()["v1/configmaps"]})  # no workloads, secrets, HPAs, events, nodes, CRDs
        result = feed(_cluster(emu, tmp_path), SINCE, UNTIL)
    finally:
        emu.stop()
    assert result.problems == []
    assert [(c.name, c.summary) for c in result.changes] == [
        ("fresh-config", "ConfigMap created"),
        ("api-config", "ConfigMap changed"),
    ]


def test_an_unreachable_cluster_raises_the_clients_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "gone", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "bot", "user": {"token": "t"}}],
                "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "bot"}}],
                "current-context": "gone",
            }
        )
    )
    cluster = Cluster("gone", config.new_client_from_config(config_file=str(kubeconfig)))
    with pytest.raises(API_ERRORS):
        feed(cluster, SINCE, UNTIL, kinds={Kind.CONFIG, Kind.SECRET})


@pytest.mark.parametrize(
    ("namespace", "workload", "why"),
    [
        (None, "deployment/api-gateway", "in its namespace"),
        (PROD, "api-gateway", "is not a workload"),
        (PROD, "pod/api-gateway", "is not a workload"),
        (PROD, "deployment/Bad_Name", "not a valid workload name"),
        ("Bad Namespace", None, "not a valid namespace name"),
    ],
)
def test_a_workload_is_kind_slash_name_in_a_namespace(
    cluster: Cluster, namespace: str | None, workload: str | None, why: str
) -> None:
    with pytest.raises(BadRequest, match=why):
        feed(cluster, SINCE, UNTIL, namespace=namespace, workload=workload)


# The pure parts ------------------------------------------------------------------------------------------------------
def test_helm_release_decodes_from_its_real_encoding_and_keeps_only_the_header() -> None:
    secret = release_secret("my-app", 3, "deployed", "2026-03-02T12:45:00.5+01:00", NOW)
    release = helm.decode(secret["data"]["release"])
    assert release == helm.Release(
        name="my-app",
        namespace=PROD,
        chart="my-app",
        chart_version="1.4.0",
        app_version="2.4.2",
        revision=3,
        status="deployed",
        deployed=datetime(2026, 3, 2, 11, 45, 0, 500000, tzinfo=UTC),
    )
    assert HELM_VALUE not in repr(release) and HELM_MANIFEST not in repr(release)
    assert release.summary() == "helm my-app chart 1.4.0 (app 2.4.2) rev 3 deployed" and not release.failed
    plain = base64.b64encode(base64.b64encode(json.dumps({"name": "x", "info": {"status": "failed"}}).encode()))
    unzipped = helm.decode(plain.decode())  # Helm reads an uncompressed release too
    assert unzipped.failed and unzipped.summary() == "helm ? chart ? failed"


@pytest.mark.parametrize(
    "data",
    [
        "not base64!",
        base64.b64encode(b"not base64 either!").decode(),
        base64.b64encode(base64.b64encode(b"\x1f\x8b\x08 truncated gzip")).decode(),
        base64.b64encode(base64.b64encode(gzip.compress(b"[1, 2]", mtime=0))).decode(),
        base64.b64encode(base64.b64encode(gzip.compress(b"{not json", mtime=0))).decode(),
    ],
    ids=["not-base64", "not-base64-twice", "truncated-gzip", "not-an-object", "not-json"],
)
def test_helm_refuses_what_is_not_a_release(data: str) -> None:
    with pytest.raises(helm.UndecodableRelease):
        helm.decode(data)


def test_helm_refuses_a_release_too_large_to_decompress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helm, "MAX_RELEASE_BYTES", 1000)
    data = base64.b64encode(base64.b64encode(gzip.compress(b'{"name": "' + b"x" * 5000 + b'"}'))).decode()
    with pytest.raises(helm.UndecodableRelease, match="larger than"):
        helm.decode(data)


@pytest.mark.parametrize(
    ("image", "split"),
    [
        ("registry/api:2.4.1", ("registry/api", "2.4.1")),
        ("registry:5000/team/api", ("registry:5000/team/api", "latest")),
        ("registry:5000/api:1", ("registry:5000/api", "1")),
        ("api@sha256:0123456789abcdef0123", ("api", "@sha256:0123456789ab")),
    ],
)
def test_split_image(image: str, split: tuple[str, str]) -> None:
    assert split_image(image) == split


def test_image_change_names_tags_or_full_images_and_each_container_when_several() -> None:
    one = (("app", "r/api:2.4.1"),)
    assert image_change(one, (("app", "r/api:2.4.2"),)) == "2.4.1 → 2.4.2"
    assert image_change(one, (("app", "other/api:2.4.2"),)) == "r/api:2.4.1 → other/api:2.4.2"
    assert image_change(None, (("app", "r/api:2.4.1"),)) == "2.4.1"
    assert image_change(one, one) == "2.4.1, same images"
    two_before = (("app", "r/api:1"), ("proxy", "envoy:1.29"), ("log", "fluent:2"))
    two_after = (("app", "r/api:2"), ("proxy", "envoy:1.30"), ("log", "fluent:2"))
    assert image_change(two_before, two_after) == "app 1 → 2, proxy 1.29 → 1.30"


@pytest.mark.parametrize(
    ("message", "summary"),
    [
        (
            "New size: 8; reason: cpu resource utilization (percentage of request) above target",
            "scaled to 8 (cpu above target)",
        ),
        ("New size: 2; reason: All metrics below target", "scaled to 2 (all metrics below target)"),
        (
            "New size: 10; reason: Current number of replicas above Spec.MaxReplicas",
            "scaled to 10 (current number of replicas above Spec.MaxReplicas)",
        ),
        ("something else " * 20, ("something else " * 20)[:79].strip() + "…"),
    ],
)
def test_rescale_summary(message: str, summary: str) -> None:
    assert rescale_summary(message) == summary


def test_a_stuck_deployment_marks_only_its_newest_revision_and_a_restart_is_named(tmp_path: Path) -> None:
    emu = KubeEmulator().start()
    try:
        restarted = replicaset(PROD, "api", 2, "r/api:1.0", ago(minutes=10))
        restarted["spec"]["template"]["metadata"] = {
            "annotations": {"kubectl.kubernetes.io/restartedAt": iso(ago(minutes=10))}
        }
        emu.seed(
            {
                "apps/v1/deployments": [deployment(PROD, "api", 2, stuck=True)],
                "apps/v1/replicasets": [replicaset(PROD, "api", 1, "r/api:1.0", ago(minutes=50)), restarted],
            }
        )
        result = feed(_cluster(emu, tmp_path), SINCE, UNTIL, kinds={Kind.ROLLOUT})
    finally:
        emu.stop()
    assert [(c.summary, c.failed) for c in result.changes] == [
        ("restart 1.0 (rev 2)", True),
        ("rollout 1.0 (rev 1)", False),
    ]


def test_configmaps_and_secrets_are_asked_for_as_metadata_only(cluster: Cluster, emulator: KubeEmulator) -> None:
    """A Secret's values need never leave the API server: its list is asked for as PartialObjectMetadataList (a
    server that cannot answer so sends whole objects, whose data is dropped here); Helm's release secrets are read
    whole, as their decoding needs."""
    feed(cluster, SINCE, UNTIL)
    asked = emulator.call(
        lambda: [(str(r.url.path), str(r.url.query), r.headers.get("Accept", "")) for r in emulator.emulator]
    )
    accept = {
        (path.rsplit("/", 1)[-1], "owner=helm" in query or "owner%3Dhelm" in query): how for path, query, how in asked
    }
    assert "as=PartialObjectMetadataList" in accept["configmaps", False]
    assert "as=PartialObjectMetadataList" in accept["secrets", False]
    assert "PartialObjectMetadata" not in accept["secrets", True]
