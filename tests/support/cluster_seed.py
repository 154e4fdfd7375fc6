"""A cluster in which every checklist item has a problem and a healthy twin (raw JSON, complete objects)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

Obj = dict[str, Any]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def version_info(version: str = "v1.30.4") -> Obj:
    """What ``GET /version`` answers: every field the official client's VersionInfo model requires."""
    return {
        "major": "1",
        "minor": version.split(".")[1],
        "gitVersion": version,
        "gitCommit": "0" * 40,
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.22",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _meta(name: str, namespace: str | None = None) -> Obj:
    meta: Obj = {
        "name": name,
        "uid": f"uid-{name}",
        "resourceVersion": "1",
        "creationTimestamp": "2026-01-01T00:00:00Z",
    }
    if namespace:
        meta["namespace"] = namespace
    return meta


def node(name: str, ready: bool = True, pressure: str | None = None, cordoned: bool = False) -> Obj:
    conditions = [
        {
            "type": "Ready",
            "status": "True" if ready else "False",
            "reason": "KubeletReady" if ready else "KubeletNotReady",
        }
    ]
    for kind in ("MemoryPressure", "DiskPressure", "PIDPressure"):
        conditions.append({"type": kind, "status": "True" if kind == pressure else "False"})
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(name),
        "spec": {"unschedulable": cordoned},
        "status": {"conditions": conditions},
    }


def container(
    name: str, *, waiting: str | None = None, restarts: int = 0, last: tuple[str, int, datetime] | None = None
) -> Obj:
    status: Obj = {
        "name": name,
        "ready": waiting is None,
        "restartCount": restarts,
        "image": f"{name}:1.0",
        "imageID": "",
        "state": {},
    }
    status["state"] = (
        {"waiting": {"reason": waiting}} if waiting else {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    )
    if last:
        reason, code, finished = last
        status["lastState"] = {
            "terminated": {
                "reason": reason,
                "exitCode": code,
                "finishedAt": iso(finished),
                "startedAt": iso(finished - timedelta(minutes=5)),
            }
        }
    return status


def pod(
    name: str, namespace: str, phase: str = "Running", containers: list[Obj] | None = None, reason: str | None = None
) -> Obj:
    status: Obj = {"phase": phase, "containerStatuses": containers or [container("app")]}
    if reason:
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": reason}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(name, namespace),
        "spec": {"containers": [{"name": "app", "image": "app:1.0"}]},
        "status": status,
    }


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


def event(
    name: str, namespace: str, reason: str, obj: str, when: datetime, count: int = 1, kind: str = "Warning"
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": _meta(name, namespace),
        "type": kind,
        "reason": reason,
        "message": f"{reason} on {obj}",
        "count": count,
        "lastTimestamp": iso(when),
        "firstTimestamp": iso(when),
        "involvedObject": {"kind": "Pod", "namespace": namespace, "name": obj},
    }
