"""A static Kubernetes API for the scale benchmarks (its own process): 10,000 pods, 500 nodes, 2,000 warning events,
PVCs and HPAs, pages cut by ``limit``/``continue`` as the API server does, and enough discovery (``/api``, ``/apis``,
resource lists) for kubectl, so the operations guide's own kubectl+jq script runs against the same data.

kmock does not paginate and slows down past a few hundred objects; this serves pre-built JSON.
"""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from tests.support.net import serve_forever

PODS, NODES, EVENTS = 10_000, 500, 2_000
SERVICES, ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS = 2_000, 800, 200
BACKUPS, SCHEDULES = 2_000, 20
VELERO = "/apis/velero.io/v1/namespaces/velero"

# group/version → (plural, kind, namespaced, short names)
RESOURCES: dict[str, list[tuple[str, str, bool, list[str]]]] = {
    "v1": [
        ("pods", "Pod", True, ["po"]),
        ("nodes", "Node", False, ["no"]),
        ("events", "Event", True, ["ev"]),
        ("persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"]),
        ("namespaces", "Namespace", False, ["ns"]),
        ("services", "Service", True, ["svc"]),
        ("serviceaccounts", "ServiceAccount", True, ["sa"]),
    ],
    "rbac.authorization.k8s.io/v1": [
        ("rolebindings", "RoleBinding", True, []),
        ("clusterrolebindings", "ClusterRoleBinding", False, []),
    ],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ["hpa"])],
    "cert-manager.io/v1": [("certificates", "Certificate", True, ["cert", "certs"])],
    "velero.io/v1": [
        ("backups", "Backup", True, []),
        ("schedules", "Schedule", True, []),
        ("backupstoragelocations", "BackupStorageLocation", True, ["bsl"]),
        ("restores", "Restore", True, []),
    ],
}


def velero_objects(now: datetime) -> dict[str, list[dict[str, Any]]]:
    """2,000 Backups of 20 daily Schedules (100 nights each, one schedule's last night Failed), two locations."""
    from tests.support.velero_seed import backup, location, schedule

    backups = [
        backup(
            f"nightly-{s:02d}-{n:03d}",
            "Failed" if s == 0 and n == 0 else "Completed",
            now - timedelta(days=n, hours=3 + s / 10),
            schedule=f"nightly-{s:02d}",
        )
        for n in range(BACKUPS // SCHEDULES)
        for s in range(SCHEDULES)
    ]
    return {
        f"{VELERO}/backups": backups,
        f"{VELERO}/schedules": [
            schedule(f"nightly-{s:02d}", "0 2 * * *", now - timedelta(hours=3)) for s in range(SCHEDULES)
        ],
        f"{VELERO}/backupstoragelocations": [location("default", "Available"), location("dr", "Available")],
        f"{VELERO}/restores": [],
    }


def security_objects() -> dict[str, list[dict[str, Any]]]:
    """What the security audit reads besides pods: 2,000 Services (every 10th a LoadBalancer, every 20th a
    NodePort), each namespace's default ServiceAccount, 1,000 bindings (a few open to system:anonymous)."""

    def meta(name: str, namespace: str | None = None) -> dict[str, Any]:
        return {"name": name, "resourceVersion": "1"} | ({"namespace": namespace} if namespace else {})

    def binding(kind: str, i: int, namespace: str | None) -> dict[str, Any]:
        subject = "system:anonymous" if i % 250 == 0 else f"team-{i % 40}"
        return {
            "kind": kind,
            "metadata": meta(f"binding-{i}", namespace),
            "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "Group", "name": subject}],
        }

    services = [
        {
            "kind": "Service",
            "metadata": meta(f"svc-{i}", f"ns-{i % 50}"),
            "spec": {
                "type": "LoadBalancer" if i % 10 == 0 else "NodePort" if i % 20 == 5 else "ClusterIP",
                "ports": [{"port": 80, "nodePort": 30000 + i % 2000}],
            },
        }
        for i in range(SERVICES)
    ]
    return {
        "/api/v1/services": services,
        "/api/v1/serviceaccounts": [
            {"kind": "ServiceAccount", "metadata": meta("default", f"ns-{i}")} for i in range(50)
        ],
        "/apis/rbac.authorization.k8s.io/v1/rolebindings": [
            binding("RoleBinding", i, f"ns-{i % 50}") for i in range(ROLE_BINDINGS)
        ],
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings": [
            binding("ClusterRoleBinding", i, None) for i in range(CLUSTER_ROLE_BINDINGS)
        ],
    }


def objects(now: datetime) -> dict[str, list[dict[str, Any]]]:
    from tests.support.cluster_seed import container, event, node, pod

    pods = []
    for i in range(PODS):
        if i % 100 == 0:
            last = ("OOMKilled", 137, now - timedelta(minutes=5))
            crashing = container("app", waiting="CrashLoopBackOff", restarts=i % 20, last=last)
            pods.append(pod(f"api-{i}", f"ns-{i % 50}", containers=[crashing]))
        else:
            pods.append(pod(f"api-{i}", f"ns-{i % 50}"))
    events = [
        event(f"ev-{i}", f"ns-{i % 50}", "BackOff", f"api-{(i * 7) % PODS}", now - timedelta(minutes=i % 25))
        for i in range(EVENTS)
    ]
    pvcs = [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": f"pvc-{i}", "namespace": "db", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {},
            "status": {"phase": "Bound" if i % 50 else "Pending"},
        }
        for i in range(200)
    ]
    hpas = [
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": f"hpa-{i}", "namespace": "api", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"maxReplicas": 10, "minReplicas": 2, "scaleTargetRef": {"kind": "Deployment", "name": "x"}},
            "status": {"currentReplicas": 10 if i % 10 == 0 else 3, "desiredReplicas": 3},
        }
        for i in range(100)
    ]
    return {
        "/api/v1/pods": pods,
        "/api/v1/nodes": [node(f"node-{i}", ready=i % 100 != 0) for i in range(NODES)],
        "/api/v1/events": events,
        "/api/v1/persistentvolumeclaims": pvcs,
        "/apis/autoscaling/v2/horizontalpodautoscalers": hpas,
        "/apis/cert-manager.io/v1/certificates": [],
        "/api/v1/namespaces/kube-system/services": [],  # kubectl cluster-info looks here
    }


def discovery() -> dict[str, Any]:
    """The legacy discovery documents kubectl falls back to."""
    docs: dict[str, Any] = {
        "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
        "/apis": {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": gv.split("/")[0],
                    "versions": [{"groupVersion": gv, "version": gv.split("/")[1]}],
                    "preferredVersion": {"groupVersion": gv, "version": gv.split("/")[1]},
                }
                for gv in RESOURCES
                if "/" in gv
            ],
        },
    }
    for gv, resources in RESOURCES.items():
        docs[f"/api/{gv}" if gv == "v1" else f"/apis/{gv}"] = {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": gv,
            "resources": [
                {
                    "name": plural,
                    "singularName": "",
                    "namespaced": ns,
                    "kind": kind,
                    "verbs": ["get", "list"],
                    "shortNames": short,
                }
                for plural, kind, ns, short in resources
            ],
        }
    return docs


def owned(pods: list[dict[str, Any]], replicas: int = 20) -> None:
    """Give the pods owners as a real cluster has them: Deployments of ``replicas`` pods (through a ReplicaSet)."""
    for i, pod in enumerate(pods):
        deployment = f"app-{i // replicas}"
        meta = pod["metadata"]
        meta["namespace"] = f"ns-{(i // replicas) % 50}"  # a Deployment's pods share its namespace
        meta["labels"] = {**(meta.get("labels") or {}), "pod-template-hash": "5d8f7c9b4"}
        meta["ownerReferences"] = [{"kind": "ReplicaSet", "name": f"{deployment}-5d8f7c9b4", "controller": True}]


def serve(port_queue: Any, velero: bool = False, security: bool = False, unowned: bool = False) -> None:
    from aiohttp import web

    from tests.support.cluster_seed import version_info

    data = objects(datetime.now(UTC)) | (velero_objects(datetime.now(UTC)) if velero else {})
    data |= security_objects() if security else {}
    if security and not unowned:
        owned(data["/api/v1/pods"])
    static = {path: json.dumps(doc).encode() for path, doc in discovery().items()}
    static["/version"] = json.dumps(version_info()).encode()
    cache: dict[tuple[str, str, int, int], bytes] = {}

    async def handle(request: web.Request) -> web.Response:
        path = request.path.rstrip("/")
        if path in static:
            return web.Response(body=static[path], content_type="application/json")
        if path not in data:
            status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound"}
            return web.json_response(status, status=404)
        items = data[path]
        selector = request.query.get("fieldSelector", "")
        if path.endswith("/events") and selector == "type=Warning":
            items = [e for e in items if e.get("type") == "Warning"]
        limit = int(request.query.get("limit") or len(items) or 1)
        start = int(request.query.get("continue") or 0)
        key = (path, selector, start, limit)
        if key not in cache:
            end = start + limit
            meta = {"resourceVersion": "1"} | ({"continue": str(end)} if end < len(items) else {})
            kind = "List"
            cache[key] = json.dumps(
                {"kind": kind, "apiVersion": "v1", "metadata": meta, "items": items[start:end]}
            ).encode()
        return web.Response(body=cache[key], content_type="application/json")

    serve_forever(handle, port_queue, method="GET")


class StaticApi:
    """The server in its own process, and a kubeconfig naming it. ``velero``: Velero installed (its CRDs answer);
    ``security``: what the security audit reads besides pods (Services, ServiceAccounts, bindings), the pods owned
    by Deployments of 20 replicas unless ``unowned`` (every pod its own workload: the audit's worst case)."""

    def __init__(self, *, velero: bool = False, security: bool = False, unowned: bool = False) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._ports = ctx.Queue()
        self._proc = ctx.Process(target=serve, args=(self._ports, velero, security, unowned), daemon=True)
        self.url = ""

    def start(self) -> StaticApi:
        self._proc.start()
        self.url = f"http://127.0.0.1:{self._ports.get(timeout=120)}"
        return self

    def kubeconfig(self, path: Path, context: str = "bench") -> Path:
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": context, "cluster": {"server": self.url}}],
                    "users": [{"name": "bench", "user": {"token": "bench-token"}}],
                    "contexts": [{"name": context, "context": {"cluster": context, "user": "bench"}}],
                    "current-context": context,
                }
            )
        )
        return path

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.join(timeout=10)
