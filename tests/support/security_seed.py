"""A cluster with one planted finding per Security Audit check and a healthy twin for each, plus cert-manager
Certificates (one expiring to renew, one healthy, one whose renewal will fail). Raw JSON, as kmock serves it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from demo.objects import certificate

Obj = dict[str, Any]
NS = "shop"
SAFE = {"runAsNonRoot": True, "runAsUser": 1000}


def _meta(name: str, namespace: str | None = None, **extra: Any) -> Obj:
    meta: Obj = {"name": name, "uid": f"uid-{name}", "resourceVersion": "1", "generation": 1, **extra}
    if namespace:
        meta["namespace"] = namespace
    return meta


def pod(name: str, spec: Obj, namespace: str = NS, **meta: Any) -> Obj:
    full = {"serviceAccountName": "shop", "securityContext": SAFE, "containers": [{"name": "app"}], **spec}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(name, namespace, **meta),
        "spec": full,
        "status": {"phase": "Running"},
    }


def pods() -> list[Obj]:
    return [
        # privileged: an init container (the guide's jq looks only at containers) / twin: privileged false
        pod("priv-init", {"initContainers": [{"name": "setup", "securityContext": {"privileged": True}}]}),
        pod("calm-init", {"initContainers": [{"name": "setup", "securityContext": {"privileged": False}}]}),
        # root: runAsUser 0 on the pod, inherited / twin: the container's runAsUser 1000 wins over the pod's 0
        pod("root-pod", {"securityContext": {"runAsUser": 0}}),
        pod(
            "root-overridden",
            {
                "securityContext": {"runAsUser": 0},
                "containers": [{"name": "app", "securityContext": {"runAsUser": 1000}}],
            },
        ),
        # default ServiceAccount with its token / twin: its own account
        pod("uses-default", {"serviceAccountName": None}),
        # host namespaces / twin: none
        pod("host-net", {"hostNetwork": True}),
        # accepted by an exception (kube-system/*, privileged), and one whose exception expired
        pod(
            "aws-node-x1",
            {"containers": [{"name": "cni", "securityContext": {"privileged": True}}]},
            namespace="kube-system",
            ownerReferences=[{"kind": "DaemonSet", "name": "aws-node", "controller": True}],
        ),
        pod(
            "old-agent",
            {"containers": [{"name": "agent", "securityContext": {"privileged": True}}]},
            namespace="legacy",
        ),
    ]


def services() -> list[Obj]:
    def service(name: str, spec: Obj) -> Obj:
        return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, NS), "spec": spec}

    return [
        service("storefront", {"type": "LoadBalancer", "ports": [{"port": 443}]}),
        service("admin", {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}),
        service("internal-api", {"type": "ClusterIP", "ports": [{"port": 80}]}),  # the twin
    ]


def bindings() -> dict[str, list[Obj]]:
    def binding(kind: str, name: str, role: str, subject: str, namespace: str | None = None) -> Obj:
        return {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": kind,
            "metadata": _meta(name, namespace),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": subject}],
        }

    return {
        "rbac.authorization.k8s.io/v1/rolebindings": [
            binding("RoleBinding", "anon-view", "view", "system:anonymous", NS),
            binding("RoleBinding", "team-edit", "edit", "shop-developers", NS),  # the twin
        ],
        "rbac.authorization.k8s.io/v1/clusterrolebindings": [
            binding("ClusterRoleBinding", "discovery", "system:discovery", "system:authenticated"),  # the twin
        ],
    }


def seed(now: datetime) -> dict[str, list[Obj]]:
    return {
        "v1/pods": pods(),
        "v1/services": services(),
        "v1/serviceaccounts": [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("default", NS)},
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("shop", NS)},
        ],
        **bindings(),
        "cert-manager.io/v1/certificates": [
            certificate("api-tls", NS, now + timedelta(days=5), 1),
            certificate("web-tls", NS, now + timedelta(days=60), 2),
            certificate("broken-tls", NS, now + timedelta(days=3), 3),
        ],
        "cert-manager.io/v1/certificaterequests": [],
    }
