"""A static Kubernetes API for the scale benchmarks (its own process): 10,000 pods, 500 nodes, 2,000 warning events,
PVCs and HPAs, pages cut by ``limit``/``continue`` as the API server does, and enough discovery (``/api``, ``/apis``,
resource lists) for kubectl, so the operations guide's own kubectl+jq script runs against the same data. Label and
field selectors are applied to any list, a namespace's list is cut from the cluster-wide one, one object is read by
name, and ``/bench/served`` counts the requests answered. ``StaticApi(changes=True)`` serves instead the cluster of
``bench/changes_cluster.py`` (its history of rollouts, ConfigMaps, Secrets, Helm releases, nodes, HPAs, CronJobs);
``StaticApi(capacity=True)`` the cluster of ``bench/capacity.py`` (node groups, requests, metrics.k8s.io).

kmock does not paginate and slows down past a few hundred objects; this serves pre-built JSON.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import time
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


def security_objects(size: int = PODS) -> dict[str, list[dict[str, Any]]]:
    """What the security audit reads besides pods: 2,000 Services (every 10th a LoadBalancer, every 20th a
    NodePort), each namespace's default ServiceAccount, 1,000 bindings (a few open to system:anonymous); for a
    cluster of ``size`` pods, the Services and bindings in proportion (100,000 pods: 20,000 and 10,000)."""
    factor = size / PODS

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
        for i in range(int(SERVICES * factor))
    ]
    return {
        "/api/v1/services": services,
        "/api/v1/serviceaccounts": [
            {"kind": "ServiceAccount", "metadata": meta("default", f"ns-{i}")} for i in range(50)
        ],
        "/apis/rbac.authorization.k8s.io/v1/rolebindings": [
            binding("RoleBinding", i, f"ns-{i % 50}") for i in range(int(ROLE_BINDINGS * factor))
        ],
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings": [
            binding("ClusterRoleBinding", i, None) for i in range(int(CLUSTER_ROLE_BINDINGS * factor))
        ],
    }


def scaled(pods: int = PODS) -> tuple[int, int, int]:
    """(pods, nodes, events) of a cluster of ``pods`` pods, the nodes and warning events in the default's proportion
    (10,000 / 500 / 2,000): 100,000 pods are 5,000 nodes and 20,000 events."""
    return pods, pods * NODES // PODS, pods * EVENTS // PODS


def objects(now: datetime, size: int = PODS) -> dict[str, list[dict[str, Any]]]:
    from tests.support.cluster_seed import container, event, node, pod

    n_pods, n_nodes, n_events = scaled(size)
    pods = []
    for i in range(n_pods):
        if i % 100 == 0:
            last = ("OOMKilled", 137, now - timedelta(minutes=5))
            crashing = container("app", waiting="CrashLoopBackOff", restarts=i % 20, last=last)
            pods.append(pod(f"api-{i}", f"ns-{i % 50}", containers=[crashing]))
        else:
            pods.append(pod(f"api-{i}", f"ns-{i % 50}"))
    events = [
        event(f"ev-{i}", f"ns-{i % 50}", "BackOff", f"api-{(i * 7) % n_pods}", now - timedelta(minutes=i % 25))
        for i in range(n_events)
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
        "/api/v1/nodes": [node(f"node-{i}", ready=i % 100 != 0) for i in range(n_nodes)],
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


ROUTE = re.compile(
    r"^(?P<base>/api/v1|/apis/[^/]+/[^/]+)(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?$"
)
NOT_FOUND = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound"}


def value_at(obj: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        obj = obj.get(key) if isinstance(obj, dict) else None  # type: ignore[assignment]
    return obj


def selected(obj: dict[str, Any], labels: str, fields: str) -> bool:
    """``app=x,team=y`` of the labels, ``type!=a,involvedObject.kind=Node`` of the fields, as the API server reads
    them (equality and inequality: what the bot sends)."""
    own = obj["metadata"].get("labels") or {}
    for term in filter(None, labels.split(",")):
        key, _, wanted = term.partition("=")
        if own.get(key) != wanted:
            return False
    for term in filter(None, fields.split(",")):
        negated = "!=" in term
        key, wanted = re.split(r"!?==?", term, maxsplit=1)
        if (str(value_at(obj, key) or "") == wanted) == negated:
            return False
    return True


def collection(path: str) -> str:
    """The cluster-wide list path of a list or object path (``/api/v1/namespaces/a/pods`` → ``/api/v1/pods``)."""
    route = ROUTE.match(path)
    return f"{route['base']}/{route['plural']}" if route else path


class Static:
    """The objects as the API server answers for them: each list by its path, or of one namespace from the
    cluster-wide list, selectors applied, paged by ``limit``/``continue`` (each page serialised once); one object by
    name."""

    def __init__(self, data: dict[str, list[dict[str, Any]]]) -> None:
        self.data = data
        self.named: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.filtered: dict[tuple[str, str | None, str, str], list[dict[str, Any]]] = {}
        self.pages: dict[tuple[Any, ...], bytes] = {}

    def listing(self, path: str, ns: str | None, query: Any) -> bytes:
        labels, fields = query.get("labelSelector", ""), query.get("fieldSelector", "")
        key = (path, ns, labels, fields)
        if key not in self.filtered:
            self.filtered[key] = [
                o
                for o in self.data[path]
                if (ns is None or o["metadata"].get("namespace") == ns) and selected(o, labels, fields)
            ]
        items = self.filtered[key]
        limit, start = int(query.get("limit") or len(items) or 1), int(query.get("continue") or 0)
        page = (*key, start, limit)
        if page not in self.pages:
            more = {"continue": str(start + limit)} if start + limit < len(items) else {}
            body = {
                "kind": "List",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": "1", **more},
                "items": items[start : start + limit],
            }
            self.pages[page] = json.dumps(body).encode()
        return self.pages[page]

    def one(self, path: str, ns: str | None, name: str) -> dict[str, Any] | None:
        if not self.named:
            self.named = {
                (collection(p), o["metadata"].get("namespace"), o["metadata"]["name"]): o
                for p, items in self.data.items()
                for o in items
            }
        return self.named.get((path, ns, name))

    def answer(self, path: str, query: Any) -> tuple[int, bytes]:
        if path in self.data:
            return 200, self.listing(path, None, query)
        route = ROUTE.match(path)
        if route is not None:
            whole = f"{route['base']}/{route['plural']}"
            if route["name"] is None and whole in self.data:
                return 200, self.listing(whole, route["ns"], query)
            found = self.one(whole, route["ns"], route["name"]) if route["name"] else None
            if found is not None:
                return 200, json.dumps(found).encode()
        return 404, json.dumps(NOT_FOUND).encode()


def serve(
    port_queue: Any,
    *,
    velero: bool = False,
    security: bool = False,
    unowned: bool = False,
    changes: bool = False,
    capacity: bool = False,
    now_iso: str = "",
    size: int = PODS,
) -> None:
    """The API in its own process, with discovery and /version; ``/bench/served`` says the requests answered (lists,
    objects, not found) and the seconds spent answering them."""
    from aiohttp import web

    from tests.support.cluster_seed import version_info

    now = datetime.fromisoformat(now_iso) if now_iso else datetime.now(UTC)
    if changes:
        from bench.changes_cluster import cluster

        data = cluster(now)
    elif capacity:
        from bench.capacity import cluster as capacity_cluster

        data = capacity_cluster(now)
    else:
        data = objects(now, size)
    data |= velero_objects(now) if velero else {}
    data |= security_objects(size) if security else {}
    if security and not unowned:
        owned(data["/api/v1/pods"])
    static = {path: json.dumps(doc).encode() for path, doc in discovery().items()}
    static["/version"] = json.dumps(version_info()).encode()
    api = Static(data)
    served = {"requests": 0, "seconds": 0.0}

    async def handle(request: web.Request) -> web.Response:
        path = request.path.rstrip("/")
        if path in static:
            return web.Response(body=static[path], content_type="application/json")
        if path == "/bench/served":
            return web.json_response(served)
        started = time.perf_counter()
        status, body = api.answer(path, request.query)
        served["requests"] += 1
        served["seconds"] += time.perf_counter() - started
        return web.Response(body=body, status=status, content_type="application/json")

    serve_forever(handle, port_queue, method="GET")


class StaticApi:
    """The server in its own process, and a kubeconfig naming it. ``velero``: Velero installed (its CRDs answer);
    ``security``: what the security audit reads besides pods (Services, ServiceAccounts, bindings), the pods owned
    by Deployments of 20 replicas unless ``unowned`` (every pod its own workload: the audit's worst case);
    ``changes``: instead of the health checklist's objects, the cluster with three days of history of
    ``bench/changes_cluster.py`` as it is at ``now`` (default: when the server starts); ``capacity``: instead, the
    capacity review's cluster of ``bench/capacity.py``; ``size``: the pods of the health checklist's cluster, its
    nodes, events, Services and bindings in proportion (see ``scaled``)."""

    def __init__(
        self,
        *,
        velero: bool = False,
        security: bool = False,
        unowned: bool = False,
        changes: bool = False,
        capacity: bool = False,
        now: datetime | None = None,
        size: int = PODS,
    ) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._ports = ctx.Queue()
        options: dict[str, Any] = {"velero": velero, "security": security, "unowned": unowned, "changes": changes}
        options["capacity"] = capacity
        options["now_iso"] = now.isoformat() if now else ""
        options["size"] = size
        self._proc = ctx.Process(target=serve, args=(self._ports,), kwargs=options, daemon=True)
        self.url = ""

    def start(self) -> StaticApi:
        self._proc.start()
        self.url = f"http://127.0.0.1:{self._ports.get(timeout=120)}"
        return self

    def served(self) -> dict[str, float]:
        """The requests answered so far, and the seconds spent answering them."""
        import httpx

        return dict(httpx.get(f"{self.url}/bench/served", timeout=10).json())

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
