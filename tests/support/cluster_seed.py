"""A cluster in which every checklist item has a problem and a healthy twin (raw JSON, complete objects)."""

from __future__ import annotations

from datetime import datetime, timedelta

from demo.objects import Obj, container, event, iso, node, pod, version_info
from demo.objects import meta as _meta

__all__ = ["Obj", "container", "event", "iso", "node", "pod", "seed", "version_info"]


def seed(now: datetime) -> tuple[dict[str, list[Obj]], dict[str, set[str]], set[str]]:
    """Objects by resource, the expected problem refs per section, and every healthy twin's name."""
    objects: dict[str, list[Obj]] = {
        "v1/nodes": [
            node("node-notready", ready=False),
            node("node-pressure", pressure="DiskPressure"),
            node("node-cordoned", cordoned=True),
            node("node-healthy"),
        ],
        "v1/pods": [
            pod(
                "crashy-7d9f",
                "payments",
                containers=[
                    container(
                        "app",
                        waiting="CrashLoopBackOff",
                        restarts=14,
                        last=("OOMKilled", 137, now - timedelta(minutes=3)),
                    )
                ],
            ),
            pod("imagepull-1", "web", phase="Pending", containers=[container("app", waiting="ImagePullBackOff")]),
            pod("unschedulable-1", "web", phase="Pending", containers=[], reason="Unschedulable"),
            pod("failed-job-1", "batch", phase="Failed", containers=[]),
            pod(
                "restarted-recently",
                "api",
                containers=[container("app", restarts=2, last=("Error", 1, now - timedelta(hours=2)))],
            ),
            pod(
                "restarted-long-ago",
                "api",
                containers=[container("app", restarts=40, last=("Error", 1, now - timedelta(days=3)))],
            ),
            pod("healthy-pod", "api"),
            pod("finished-job", "batch", phase="Succeeded", containers=[]),
        ],
        "v1/persistentvolumeclaims": [
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": _meta("data-pending", "db"),
                "spec": {},
                "status": {"phase": "Pending"},
            },
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": _meta("data-bound", "db"),
                "spec": {},
                "status": {"phase": "Bound"},
            },
        ],
        "cert-manager.io/v1/certificates": [
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": _meta("cert-notready", "ingress"),
                "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Failed"}]},
            },
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": _meta("cert-expiring", "ingress"),
                "status": {
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "notAfter": iso(now + timedelta(days=5)),
                },
            },
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": _meta("cert-healthy", "ingress"),
                "status": {
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "notAfter": iso(now + timedelta(days=80)),
                },
            },
        ],
        "autoscaling/v2/horizontalpodautoscalers": [
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": _meta("hpa-maxed", "api"),
                "spec": {"maxReplicas": 10, "scaleTargetRef": {"kind": "Deployment", "name": "api"}},
                "status": {"currentReplicas": 10, "desiredReplicas": 10},
            },
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": _meta("hpa-stuck", "api"),
                "spec": {"maxReplicas": 10, "scaleTargetRef": {"kind": "Deployment", "name": "w"}},
                "status": {
                    "currentReplicas": 2,
                    "desiredReplicas": 2,
                    "conditions": [{"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric"}],
                },
            },
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": _meta("hpa-healthy", "api"),
                "spec": {"maxReplicas": 10, "scaleTargetRef": {"kind": "Deployment", "name": "h"}},
                "status": {
                    "currentReplicas": 3,
                    "desiredReplicas": 3,
                    "conditions": [
                        {"type": "AbleToScale", "status": "True"},
                        {"type": "ScalingActive", "status": "True"},
                    ],
                },
            },
        ],
        "v1/events": [
            event("ev-1", "payments", "BackOff", "crashy-7d9f", now - timedelta(minutes=2), count=7),
            event("ev-2", "payments", "BackOff", "crashy-7d9f", now - timedelta(minutes=1), count=3),
            event("ev-3", "web", "FailedScheduling", "unschedulable-1", now - timedelta(minutes=10)),
            event("ev-old", "web", "FailedMount", "old-pod", now - timedelta(hours=2)),
            event("ev-normal", "api", "Pulled", "healthy-pod", now - timedelta(minutes=1), kind="Normal"),
        ],
    }
    expected = {
        "nodes": {"node-notready", "node-pressure", "node-cordoned"},
        "pods": {"payments/crashy-7d9f", "web/imagepull-1", "web/unschedulable-1", "batch/failed-job-1"},
        "restarts": {"payments/crashy-7d9f", "api/restarted-recently"},
        "pvcs": {"db/data-pending"},
        "certificates": {"ingress/cert-notready", "ingress/cert-expiring"},
        "hpas": {"api/hpa-maxed", "api/hpa-stuck"},
        "events": {"payments/pod/crashy-7d9f", "web/pod/unschedulable-1"},
    }
    healthy = {
        "node-healthy",
        "healthy-pod",
        "finished-job",
        "restarted-long-ago",
        "data-bound",
        "cert-healthy",
        "hpa-healthy",
        "old-pod",
    }
    return objects, expected, healthy
