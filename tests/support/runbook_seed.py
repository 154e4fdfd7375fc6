"""A namespace with a Deployment and three ReplicaSet revisions, and a crash-looping workload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.cluster_seed import container, iso, pod

NS = "production"
DEPLOY_UID = "uid-api-gateway"


def template(image: str, hash_: str | None = None) -> dict[str, Any]:
    labels = {"app": "api-gateway"} | ({"pod-template-hash": hash_} if hash_ else {})
    return {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "api-gateway", "image": image, "env": [{"name": "MODE", "value": "prod"}]}]},
    }


def replicaset(revision: int, image: str, cause: str, created: datetime) -> dict[str, Any]:
    hash_ = f"h{revision}abc"
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"api-gateway-{hash_}",
            "namespace": NS,
            "uid": f"uid-rs-{revision}",
            "resourceVersion": "1",
            "creationTimestamp": iso(created),
            "labels": {"app": "api-gateway", "pod-template-hash": hash_},
            "annotations": {"deployment.kubernetes.io/revision": str(revision), "kubernetes.io/change-cause": cause},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "api-gateway",
                    "uid": DEPLOY_UID,
                    "controller": True,
                }
            ],
        },
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "api-gateway", "pod-template-hash": hash_}},
            "template": template(image, hash_),
        },
        "status": {"replicas": 0},
    }


def seed(now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    now = now or datetime.now(UTC)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "api-gateway",
            "namespace": NS,
            "uid": DEPLOY_UID,
            "resourceVersion": "7",
            "generation": 3,
            "creationTimestamp": iso(now - timedelta(days=30)),
            "annotations": {"deployment.kubernetes.io/revision": "3"},
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "api-gateway"}},
            "template": template("registry/api-gateway:2.4.1"),
        },
        "status": {"replicas": 3, "updatedReplicas": 3, "availableReplicas": 3, "observedGeneration": 3},
    }
    crashing = pod(
        "payments-api-5c7d9",
        NS,
        containers=[
            container(
                "payments-api",
                waiting="CrashLoopBackOff",
                restarts=9,
                last=("OOMKilled", 137, now - timedelta(minutes=2)),
            )
        ],
    )
    crashing["metadata"]["labels"] = {"app": "payments-api"}
    crashing["spec"] = {
        "containers": [
            {
                "name": "payments-api",
                "image": "registry/payments-api:1.9.0",
                "resources": {"limits": {"memory": "256Mi"}},
                "envFrom": [{"configMapRef": {"name": "payments-config"}}, {"secretRef": {"name": "payments-db"}}],
            }
        ],
        "volumes": [{"name": "tls", "secret": {"secretName": "payments-tls"}}],
    }
    gateway_pods = []
    for i in range(2):
        p = pod(f"api-gateway-h3abc-{i}", NS)
        p["metadata"]["labels"] = {"app": "api-gateway", "pod-template-hash": "h3abc"}
        gateway_pods.append(p)
    database = pod("database-0", NS, phase="Pending", containers=[container("db", waiting="ImagePullBackOff")])
    database["metadata"]["labels"] = {"app": "database"}
    payments = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "payments-api",
            "namespace": NS,
            "uid": "uid-payments",
            "resourceVersion": "2",
            "generation": 1,
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "payments-api"}},
            "template": template("registry/payments-api:1.9.0"),
        },
        "status": {"replicas": 1, "observedGeneration": 1},
    }
    return {
        "apps/v1/deployments": [deployment, payments],
        "apps/v1/replicasets": [
            replicaset(1, "registry/api-gateway:2.3.9", "deploy 2.3.9", now - timedelta(days=9)),
            replicaset(2, "registry/api-gateway:2.4.0", "deploy 2.4.0", now - timedelta(days=2)),
            replicaset(3, "registry/api-gateway:2.4.1", "deploy 2.4.1", now - timedelta(hours=3)),
        ],
        "v1/pods": [crashing, *gateway_pods, database],
        "v1/configmaps": [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": "payments-config",
                    "namespace": NS,
                    "creationTimestamp": iso(now - timedelta(days=20)),
                    "managedFields": [
                        {"manager": "kubectl", "operation": "Update", "time": iso(now - timedelta(minutes=40))}
                    ],
                },
                "data": {"LOG_LEVEL": "debug"},
            }
        ],
        "v1/events": [],
    }
