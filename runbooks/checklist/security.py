"""The operations guide's Security Audit Checklist as pure functions: raw Kubernetes JSON in, findings out.

Pods are judged by the workload that owns them (a Deployment's 40 replicas are one finding, named
``namespace/Deployment/name``), so the audit of a large cluster reads like a list of things to fix. Every
finding carries the check it belongs to, which ``security.exceptions`` match against.

Ranks: 3 = an attacker's open door (privileged, host namespaces, anonymous RBAC), 2 = a clear weakness (root,
a token mounted for the default ServiceAccount, a LoadBalancer open to the world), 1 = worth a look.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from runbooks.kube.objects import Obj, meta

CHECKS = ("privileged", "root", "default-sa", "exposed", "rbac", "host")
CHECK_ORDER = {check: i for i, check in enumerate(CHECKS)}
CHECK_TITLES = {
    "privileged": "Privileged containers",
    "root": "Running as root",
    "default-sa": "Default ServiceAccount in use",
    "exposed": "Exposed Services",
    "rbac": "RBAC open to anonymous or every user",
    "host": "Host namespaces and paths",
}
DANGEROUS_CAPS = ("SYS_ADMIN", "NET_ADMIN", "ALL")
OPEN_SUBJECTS = ("system:anonymous", "system:unauthenticated")
AWS_LB = "service.beta.kubernetes.io/aws-load-balancer"
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """One finding: ``namespace/name — why`` (a plain dataclass: a large cluster has tens of thousands)."""

    check: str
    namespace: str | None
    name: str
    why: str
    rank: int = 1  # 3 = high, 2 = medium, 1 = low

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def key(self) -> str:
        """Stable across audits: what the next audit compares to say new and fixed."""
        return f"{self.check}|{self.ref}|{self.why}"


def sort(findings: Iterable[AuditFinding]) -> list[AuditFinding]:
    return sorted(findings, key=lambda f: (-f.rank, CHECK_ORDER[f.check], f.namespace or "", f.name, f.why))


def workload(pod: Obj) -> tuple[str | None, str]:
    """(namespace, ``Kind/name`` of the owning workload): a ReplicaSet's pods are their Deployment's."""
    ns, name = meta(pod)
    data = pod.get("metadata") or {}
    owners = data.get("ownerReferences") or []
    owner = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
    if not owner:
        return ns, f"Pod/{name}"
    kind, owner_name = str(owner.get("kind", "?")), str(owner.get("name", "?"))
    template_hash = (data.get("labels") or {}).get("pod-template-hash")
    if kind == "ReplicaSet" and template_hash and owner_name.endswith(f"-{template_hash}"):
        return ns, f"Deployment/{owner_name[: -len(template_hash) - 1]}"
    if kind == "Job" and owner_name.rsplit("-", 1)[-1].isdigit():  # a CronJob's run: name the CronJob
        return ns, f"CronJob/{owner_name.rsplit('-', 1)[0]}"
    return ns, f"{kind}/{owner_name}"


def _containers(spec: Obj) -> Iterator[tuple[str, Obj]]:
    for field in CONTAINER_LISTS:
        kind = {"initContainers": "init container ", "ephemeralContainers": "ephemeral container "}.get(field, "")
        for container in spec.get(field) or []:
            yield f"{kind}{container.get('name', '?')}", container


def _pod_findings(spec: Obj, default_sa_automount: Mapping[str, bool | None], ns: str | None) -> Iterator[Any]:
    """(check, why, rank) for one pod spec."""
    pod_ctx = spec.get("securityContext") or {}
    for label, container in _containers(spec):
        ctx = container.get("securityContext") or {}
        if ctx.get("privileged") is True:
            yield "privileged", f"{label}: privileged", 3
        if ctx.get("allowPrivilegeEscalation") is True:
            yield "privileged", f"{label}: allowPrivilegeEscalation", 2
        added = [c for c in ((ctx.get("capabilities") or {}).get("add") or []) if str(c).upper() in DANGEROUS_CAPS]
        if added:
            yield "privileged", f"{label}: adds capability {', '.join(sorted(map(str, added)))}", 3
        run_as = ctx["runAsUser"] if "runAsUser" in ctx else pod_ctx.get("runAsUser")  # the container's wins
        non_root = ctx["runAsNonRoot"] if "runAsNonRoot" in ctx else pod_ctx.get("runAsNonRoot")
        if run_as == 0:
            where = "container" if "runAsUser" in ctx else "pod"
            yield "root", f"{label}: runAsUser 0 (set on the {where})", 2
        elif run_as is None and non_root is not True:
            yield "root", f"{label}: may run as root: the image decides (no runAsUser, no runAsNonRoot)", 1
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    if account == "default":
        pod_mount = spec.get("automountServiceAccountToken")
        account_mount = default_sa_automount.get(ns or "")
        mounted = pod_mount if pod_mount is not None else (account_mount if account_mount is not None else True)
        if mounted:
            yield "default-sa", "uses the default ServiceAccount, its token mounted", 2
        else:
            yield "default-sa", "uses the default ServiceAccount (token not mounted)", 1
    hosts = [h for h in ("hostNetwork", "hostPID", "hostIPC") if spec.get(h) is True]
    if hosts:
        yield "host", ", ".join(hosts), 3
    for volume in spec.get("volumes") or []:
        host_path = volume.get("hostPath")
        if host_path is not None:
            yield "host", f"hostPath volume {volume.get('name', '?')} ({host_path.get('path', '?')})", 3


def check_pods(pods: Iterable[Obj], default_sa_automount: Mapping[str, bool | None]) -> list[AuditFinding]:
    """Every pod's containers, identity and host access, one finding per workload and reason.

    ``default_sa_automount``: per namespace, the ``default`` ServiceAccount's ``automountServiceAccountToken``
    (None or absent: not set, and Kubernetes mounts the token)."""
    found: dict[tuple[str, str | None, str, str], AuditFinding] = {}
    for pod in pods:
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue  # finished: nothing runs
        ns, owner = workload(pod)
        for check, why, rank in _pod_findings(pod.get("spec") or {}, default_sa_automount, ns):
            key = (check, ns, owner, why)
            if key not in found:
                found[key] = AuditFinding(check, ns, owner, why, rank)
    return list(found.values())


def check_services(services: Iterable[Obj]) -> list[AuditFinding]:
    found = []
    for service in services:
        ns, name = meta(service)
        spec = service.get("spec") or {}
        kind = spec.get("type")
        if kind == "LoadBalancer":
            ranges = [str(r) for r in spec.get("loadBalancerSourceRanges") or []]
            notes = (service.get("metadata") or {}).get("annotations") or {}
            internal = (
                str(notes.get(f"{AWS_LB}-internal", "")).lower() == "true"
                or notes.get(f"{AWS_LB}-scheme") == "internal"
            )
            if ranges and not any(r in ("0.0.0.0/0", "::/0") for r in ranges):
                found.append(AuditFinding("exposed", ns, name, f"LoadBalancer, from {', '.join(ranges)}"))
            elif internal:
                found.append(AuditFinding("exposed", ns, name, "LoadBalancer (internal)"))
            else:
                found.append(AuditFinding("exposed", ns, name, "LoadBalancer open to 0.0.0.0/0", rank=2))
        elif kind == "NodePort":
            ports = ", ".join(str(p.get("nodePort")) for p in spec.get("ports") or [] if p.get("nodePort"))
            why = f"NodePort {ports}" if ports else "NodePort"
            found.append(AuditFinding("exposed", ns, name, why))
    return found


def check_bindings(bindings: Iterable[Obj]) -> list[AuditFinding]:
    """ClusterRoleBindings and RoleBindings that grant anything to anonymous or unauthenticated users, or
    cluster-admin to every authenticated user."""
    found = []
    for binding in bindings:
        ns, name = meta(binding)
        kind = binding.get("kind") or ("RoleBinding" if ns else "ClusterRoleBinding")
        role = binding.get("roleRef") or {}
        role_name = f"{role.get('kind', 'Role')} {role.get('name', '?')}"
        names = {str(s.get("name")) for s in binding.get("subjects") or [] if s.get("kind") in ("Group", "User")}
        open_to = sorted(names & set(OPEN_SUBJECTS))
        if open_to:
            why = f"{kind} grants {role_name} to {', '.join(open_to)}"
            found.append(AuditFinding("rbac", ns, name, why, 3))
        if "system:authenticated" in names and role.get("name") == "cluster-admin":
            why = f"{kind} grants cluster-admin to system:authenticated (every signed-in user)"
            found.append(AuditFinding("rbac", ns, name, why, 3))
    return found


def default_accounts(accounts: Iterable[Obj]) -> dict[str, bool | None]:
    """Per namespace, the ``default`` ServiceAccount's ``automountServiceAccountToken``."""
    found: dict[str, bool | None] = {}
    for account in accounts:
        ns, name = meta(account)
        if name == "default" and ns:
            value = account.get("automountServiceAccountToken")
            found[ns] = value if isinstance(value, bool) else None
    return found
