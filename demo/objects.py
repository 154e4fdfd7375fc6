"""Kubernetes objects as the API server answers them (raw JSON, the fields a client reads filled in): the demo
platform's and the tests' seeds are built from these."""

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


def meta(name: str, namespace: str | None = None) -> Obj:
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
        "metadata": meta(name),
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
        "metadata": meta(name, namespace),
        "spec": {"containers": [{"name": "app", "image": "app:1.0"}]},
        "status": status,
    }


def event(
    name: str, namespace: str, reason: str, obj: str, when: datetime, count: int = 1, kind: str = "Warning"
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": meta(name, namespace),
        "type": kind,
        "reason": reason,
        "message": f"{reason} on {obj}",
        "count": count,
        "lastTimestamp": iso(when),
        "firstTimestamp": iso(when),
        "involvedObject": {"kind": "Pod", "namespace": namespace, "name": obj},
    }


def certificate(name: str, namespace: str, not_after: datetime, revision: int, *, domain: str = "example.com") -> Obj:
    """A cert-manager Certificate of ``<name>.<domain>``, Ready, from ClusterIssuer ``letsencrypt``: issued 90 days
    before ``not_after``, renewed 30 days before it."""
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {**meta(name, namespace), "generation": 1},
        "spec": {
            "secretName": name,
            "dnsNames": [f"{name}.{domain}"],
            "issuerRef": {"kind": "ClusterIssuer", "name": "letsencrypt"},
        },
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "Ready", "message": "Certificate is up to date"}
            ],
            "notAfter": iso(not_after),
            "notBefore": iso(not_after - timedelta(days=90)),
            "renewalTime": iso(not_after - timedelta(days=30)),
            "revision": revision,
        },
    }
