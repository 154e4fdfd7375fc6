"""The demo cluster: the operations guide's own situations in one small cluster ``demo``, namespace ``production``.

``payments`` crash-loops (OOMKilled, with its previous logs), ``api-gateway``'s rollout 2.4.1 → 2.4.2 answers 5xx
(revision 2.4.1 is there to roll back to), a node is NotReady and one cordoned, a PVC is Pending, a certificate
expires in 5 days, an HPA is at its maximum, Velero has a stale schedule and backups to restore, and the audit finds
a privileged pod and a LoadBalancer open to 0.0.0.0/0."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from demo.objects import Obj, certificate, container, event, iso, meta, node, pod

NS = "production"
VELERO = "velero"

# Every kind the bot lists: an empty list is an answer (kmock answers 404 for a kind it never saw).
KINDS = [
    "v1/nodes",
    "v1/pods",
    "v1/events",
    "v1/persistentvolumeclaims",
    "v1/persistentvolumes",
    "v1/services",
    "v1/serviceaccounts",
    "v1/configmaps",
    "v1/secrets",
    "v1/namespaces",
    "apps/v1/deployments",
    "apps/v1/replicasets",
    "apps/v1/statefulsets",
    "apps/v1/daemonsets",
    "apps/v1/controllerrevisions",
    "batch/v1/cronjobs",
    "batch/v1/jobs",
    "autoscaling/v2/horizontalpodautoscalers",
    "networking.k8s.io/v1/ingresses",
    "networking.k8s.io/v1/networkpolicies",
    "rbac.authorization.k8s.io/v1/rolebindings",
    "rbac.authorization.k8s.io/v1/clusterrolebindings",
    "cert-manager.io/v1/certificates",
    "cert-manager.io/v1/certificaterequests",
    "velero.io/v1/schedules",
    "velero.io/v1/backups",
    "velero.io/v1/restores",
    "velero.io/v1/backupstoragelocations",
    "policy/v1/poddisruptionbudgets",
    "metrics.k8s.io/v1beta1/nodes",
    "metrics.k8s.io/v1beta1/pods",
]

CRASH_LOGS = "\n".join(
    [
        "2026-12-01T03:12:01Z INFO payments starting, loading the card-network tables",
        "2026-12-01T03:12:09Z INFO cache warmed: 1,802,113 entries",
        "2026-12-01T03:12:14Z WARN heap at 243Mi of 256Mi",
        "2026-12-01T03:12:15Z ERROR java.lang.OutOfMemoryError: Java heap space",
    ]
)
GATEWAY_LOGS = "\n".join(
    [
        '10.0.3.7 - - "GET /api/v2/orders HTTP/1.1" 502 0 upstream=payments:8080 error="connection refused"',
        '10.0.3.9 - - "POST /api/v2/checkout HTTP/1.1" 503 0 upstream=payments:8080 error="no healthy upstream"',
        '10.0.3.7 - - "GET /api/v2/cart HTTP/1.1" 500 0 error="TypeError: cannot read properties of undefined"',
        '10.0.3.4 - - "GET /healthz HTTP/1.1" 200 2',
    ]
)


def template(app: str, image: str, hash_: str | None = None) -> Obj:
    labels = {"app": app} | ({"pod-template-hash": hash_} if hash_ else {})
    return {"metadata": {"labels": labels}, "spec": {"containers": [{"name": app, "image": image}]}}


def deployment(app: str, image: str, revision: int, now: datetime, replicas: int = 3, **resources: Any) -> Obj:
    spec_template = template(app, image)
    if resources:
        spec_template["spec"]["containers"][0]["resources"] = resources
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            **meta(app, NS),
            "generation": revision,
            "creationTimestamp": iso(now - timedelta(days=40)),
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "labels": {"app": app},
        },
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}}, "template": spec_template},
        "status": {
            "replicas": replicas,
            "updatedReplicas": replicas,
            "availableReplicas": replicas,
            "readyReplicas": replicas,
            "observedGeneration": revision,
        },
    }


def replicaset(app: str, revision: int, image: str, created: datetime, replicas: int = 0) -> Obj:
    hash_ = f"{app[:3]}{revision}x7f"
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            **meta(f"{app}-{hash_}", NS),
            "creationTimestamp": iso(created),
            "labels": {"app": app, "pod-template-hash": hash_},
            "annotations": {
                "deployment.kubernetes.io/revision": str(revision),
                "kubernetes.io/change-cause": f"deploy {image.rsplit(':', 1)[-1]} (ci pipeline #{4000 + revision})",
            },
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": app, "uid": f"uid-{app}", "controller": True}
            ],
            "managedFields": [
                {"manager": "argocd-application-controller", "operation": "Update", "time": iso(created)}
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app, "pod-template-hash": hash_}},
            "template": template(app, image, hash_),
        },
        "status": {"replicas": replicas, "availableReplicas": replicas},
    }


def app_pod(app: str, hash_: str, index: int, node_name: str, **status: Any) -> Obj:
    name = f"{app}-{hash_}-{'bcdfg'[index]}{index}q"
    obj = pod(name, NS, **status)
    obj["metadata"]["labels"] = {"app": app, "pod-template-hash": hash_}
    obj["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": f"{app}-{hash_}", "controller": True}]
    obj["spec"] = {"nodeName": node_name, "containers": [{"name": app, "image": f"registry.demo/{app}"}]}
    return obj


def workloads(now: datetime) -> dict[str, list[Obj]]:
    gateway = deployment("api-gateway", "registry.demo/api-gateway:2.4.2", 3, now)
    payments = deployment(
        "payments",
        "registry.demo/payments:3.1.0",
        1,
        now,
        replicas=2,
        limits={"memory": "256Mi"},
        requests={"memory": "256Mi", "cpu": "250m"},
    )
    payments["status"]["availableReplicas"] = 0
    checkout = deployment("checkout", "registry.demo/checkout:1.8.3", 1, now, replicas=2)
    crashing = [
        app_pod(
            "payments",
            "pay1x7f",
            i,
            "ip-10-0-1-11.ec2.internal",
            containers=[
                container(
                    "payments",
                    waiting="CrashLoopBackOff",
                    restarts=7 + i,
                    last=("OOMKilled", 137, now - timedelta(minutes=2 + i)),
                )
            ],
        )
        for i in range(2)
    ]
    gateway_pods = [app_pod("api-gateway", "api3x7f", i, "ip-10-0-1-12.ec2.internal") for i in range(3)]
    checkout_pods = [app_pod("checkout", "che1x7f", i, "ip-10-0-1-13.ec2.internal") for i in range(2)]
    return {
        "apps/v1/deployments": [gateway, payments, checkout],
        "apps/v1/replicasets": [
            replicaset("api-gateway", 1, "registry.demo/api-gateway:2.4.0", now - timedelta(days=9)),
            replicaset("api-gateway", 2, "registry.demo/api-gateway:2.4.1", now - timedelta(days=2)),
            replicaset("api-gateway", 3, "registry.demo/api-gateway:2.4.2", now - timedelta(minutes=25), 3),
            replicaset("payments", 1, "registry.demo/payments:3.1.0", now - timedelta(days=5), 2),
            replicaset("checkout", 1, "registry.demo/checkout:1.8.3", now - timedelta(days=12), 2),
        ],
        "v1/pods": [*crashing, *gateway_pods, *checkout_pods, *audited_pods()],
    }


def audited_pods() -> list[Obj]:
    """What the security audit finds: a privileged container, and a pod running as root."""
    agent = pod("log-agent-7xk2p", NS)
    agent["spec"] = {
        "serviceAccountName": "log-agent",
        "nodeName": "ip-10-0-1-13.ec2.internal",
        "containers": [
            {"name": "agent", "image": "registry.demo/log-agent:0.9", "securityContext": {"privileged": True}}
        ],
    }
    return [agent]


def platform(now: datetime) -> dict[str, list[Obj]]:
    """Nodes, storage, certificates, autoscaling and the audit's services."""
    nodes = [
        node("ip-10-0-1-11.ec2.internal"),
        node("ip-10-0-1-12.ec2.internal"),
        node("ip-10-0-1-13.ec2.internal"),
        node("ip-10-0-1-14.ec2.internal", ready=False),
        node("ip-10-0-1-15.ec2.internal", cordoned=True),
    ]
    for item in nodes:
        item["metadata"]["labels"] = {"eks.amazonaws.com/nodegroup": "general", "kubernetes.io/os": "linux"}
        item["status"] |= {
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "58"},
            "allocatable": {"cpu": "3920m", "memory": "15Gi", "pods": "58"},
            "nodeInfo": {
                "kubeletVersion": "v1.29.8-eks-a737599",
                "osImage": "Amazon Linux 2",
                "containerRuntimeVersion": "containerd://1.7.11",
            },
        }
    pvc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {**meta("orders-data", NS), "creationTimestamp": iso(now - timedelta(hours=2))},
        "spec": {"storageClassName": "gp3", "resources": {"requests": {"storage": "50Gi"}}},
        "status": {"phase": "Pending"},
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta("checkout", NS),
        "spec": {
            "minReplicas": 2,
            "maxReplicas": 6,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout"},
        },
        "status": {
            "currentReplicas": 6,
            "desiredReplicas": 6,
            "conditions": [
                {
                    "type": "ScalingLimited",
                    "status": "True",
                    "reason": "TooManyReplicas",
                    "lastTransitionTime": iso(now - timedelta(hours=30)),
                },
            ],
        },
    }
    storefront = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta("storefront", NS),
        "spec": {"type": "LoadBalancer", "ports": [{"port": 443}], "loadBalancerSourceRanges": ["0.0.0.0/0"]},
    }
    return {
        "v1/nodes": nodes,
        "v1/persistentvolumeclaims": [pvc],
        "autoscaling/v2/horizontalpodautoscalers": [hpa],
        "v1/services": [storefront],
        "v1/namespaces": [{"apiVersion": "v1", "kind": "Namespace", "metadata": meta(ns)} for ns in (NS, VELERO)],
        "cert-manager.io/v1/certificates": [
            certificate("api-tls", NS, now + timedelta(days=5, hours=6), 3, domain="demo.example.com"),
            certificate("web-tls", NS, now + timedelta(days=62), 5, domain="demo.example.com"),
        ],
        "v1/events": [
            event("payments-oom", NS, "BackOff", "payments-pay1x7f-b0q", now - timedelta(minutes=2), count=31),
            event("node-14-notready", NS, "NodeNotReady", "ip-10-0-1-14.ec2.internal", now - timedelta(minutes=40)),
            event("orders-data-pending", NS, "ProvisioningFailed", "orders-data", now - timedelta(minutes=20), 9),
        ],
    }


def backups(now: datetime) -> dict[str, list[Obj]]:
    def backup(name: str, finished: datetime, schedule: str | None, phase: str = "Completed") -> Obj:
        return {
            "apiVersion": "velero.io/v1",
            "kind": "Backup",
            "metadata": {
                **meta(name, VELERO),
                "labels": {"velero.io/schedule-name": schedule} if schedule else {},
                "creationTimestamp": iso(finished - timedelta(minutes=6)),
            },
            "spec": {"includedNamespaces": [NS], "ttl": "720h0m0s", "storageLocation": "default"},
            "status": {
                "phase": phase,
                "startTimestamp": iso(finished - timedelta(minutes=5)),
                "completionTimestamp": iso(finished),
                "expiration": iso(finished + timedelta(days=30)),
                "progress": {"totalItems": 142, "itemsBackedUp": 142},
            },
        }

    def schedule(name: str, cron: str, last: datetime) -> Obj:
        return {
            "apiVersion": "velero.io/v1",
            "kind": "Schedule",
            "metadata": meta(name, VELERO),
            "spec": {"schedule": cron, "template": {"includedNamespaces": [NS], "ttl": "720h0m0s"}},
            "status": {"phase": "Enabled", "lastBackup": iso(last)},
        }

    nightly = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if nightly > now:
        nightly -= timedelta(days=1)
    stamp = f"{nightly:%Y%m%d%H%M%S}"
    return {
        "velero.io/v1/schedules": [
            schedule("production-daily", "0 2 * * *", nightly),
            schedule("production-volumes", "0 3 * * *", now - timedelta(days=3)),  # stale: 3 days
        ],
        "velero.io/v1/backups": [
            backup(f"production-daily-{stamp}", nightly + timedelta(minutes=6), "production-daily"),
            backup(
                f"production-daily-{nightly - timedelta(days=1):%Y%m%d%H%M%S}",
                nightly - timedelta(hours=23, minutes=54),
                "production-daily",
            ),
            backup(
                f"production-volumes-{now - timedelta(days=3):%Y%m%d}030000",
                now - timedelta(days=3),
                "production-volumes",
            ),
            backup("before-payments-migration", now - timedelta(hours=6), None),  # by hand, before a change
        ],
        "velero.io/v1/backupstoragelocations": [
            {
                "apiVersion": "velero.io/v1",
                "kind": "BackupStorageLocation",
                "metadata": meta("default", VELERO),
                "spec": {"provider": "aws", "objectStorage": {"bucket": "demo-velero-backups"}},
                "status": {"phase": "Available"},
            }
        ],
    }


def metrics(nodes: list[Obj]) -> list[Obj]:
    """What metrics-server reports: one node running hot, the others comfortable."""
    used = {"ip-10-0-1-11.ec2.internal": ("3610m", "14Gi")}
    return [
        {
            "apiVersion": "metrics.k8s.io/v1beta1",
            "kind": "NodeMetrics",
            "metadata": meta(item["metadata"]["name"]),
            "window": "20s",
            "usage": dict(zip(("cpu", "memory"), used.get(item["metadata"]["name"], ("1150m", "6Gi")), strict=True)),
        }
        for item in nodes
        if item["metadata"]["name"] != "ip-10-0-1-14.ec2.internal"  # NotReady: no metrics
    ]


def cluster(now: datetime) -> dict[str, list[Obj]]:
    """Every object of the demo cluster, by kmock resource (``v1/pods``, ``apps/v1/deployments``, …)."""
    objects: dict[str, list[Obj]] = {kind: [] for kind in KINDS}
    for part in (workloads(now), platform(now), backups(now)):
        for kind, items in part.items():
            objects[kind].extend(items)
    objects["metrics.k8s.io/v1beta1/nodes"] = metrics(objects["v1/nodes"])
    objects["v1/serviceaccounts"] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(name, NS)} for name in ("default", "log-agent")
    ]
    return objects


LOGS = {"payments": CRASH_LOGS, "api-gateway": GATEWAY_LOGS}
