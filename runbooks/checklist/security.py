"""The operations guide's Security Audit Checklist as pure functions: Kubernetes objects in, findings out.

Pods come decoded into ``runbooks.kube.shapes.SecuredPod`` (their owner, the security settings of their spec, their
phase; a plain dict is turned into it); Services, bindings and ServiceAccounts are plain dicts.

Pods are judged by the workload that owns them (a Deployment's 40 replicas are one finding, named
``namespace/Deployment/name``), so the audit of a large cluster reads like a list of things to fix. Every
finding carries the check it belongs to, which ``security.exceptions`` match against.

Ranks: 3 = an attacker's open door (privileged, host namespaces, anonymous RBAC), 2 = a clear weakness (root,
a token mounted for the default ServiceAccount, a LoadBalancer open to the world), 1 = worth a look.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter

from runbooks.kube.objects import Obj, meta
from runbooks.kube.shapes import Container, OwnedMeta, PodSpec, SecuredPod, SecurityContext, name_of, shaped

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
NO_META, NO_SPEC, NO_CONTEXT = OwnedMeta(), PodSpec(), SecurityContext()
FINISHED = ("Succeeded", "Failed")
Judged = tuple[str, str, int]  # check, why, rank


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
    """Most severe first, then by check, namespace, name and reason: one stable sort per key, the least significant
    first (the same order as one sort by the tuple of them, in a third of the time and without a tuple per finding:
    a large cluster's worst case has 200,000 findings)."""
    found = sorted(findings, key=attrgetter("why"))
    found.sort(key=attrgetter("name"))
    found.sort(key=lambda f: f.namespace or "")
    found.sort(key=lambda f: CHECK_ORDER[f.check])
    found.sort(key=lambda f: -f.rank)
    return found


def workload(pod: SecuredPod | Obj) -> tuple[str | None, str]:
    """(namespace, ``Kind/name`` of the owning workload): a ReplicaSet's pods are their Deployment's."""
    return _workload(shaped(SecuredPod, pod).metadata or NO_META)


def _workload(data: OwnedMeta) -> tuple[str | None, str]:
    ns, name = name_of(data)
    owners = data.ownerReferences
    if not owners:
        return ns, f"Pod/{name}"
    owner = next((o for o in owners if o.controller), owners[0])
    if owner.kind is None and owner.name is None and owner.controller is None:  # ``{}``: no owner said
        return ns, f"Pod/{name}"
    kind = "?" if owner.kind is None else owner.kind
    owner_name = "?" if owner.name is None else owner.name
    template_hash = data.labels.pod_template_hash if data.labels is not None else None
    if kind == "ReplicaSet" and template_hash and owner_name.endswith(f"-{template_hash}"):
        return ns, f"Deployment/{owner_name[: -len(template_hash) - 1]}"
    if kind == "Job" and owner_name.rsplit("-", 1)[-1].isdigit():  # a CronJob's run: name the CronJob
        return ns, f"CronJob/{owner_name.rsplit('-', 1)[0]}"
    return ns, f"{kind}/{owner_name}"


def _label(kind: str, container: Container) -> str:
    return f"{kind}{'?' if container.name is None else container.name}"


def _container_findings(kind: str, container: Container, pod_ctx: SecurityContext, found: list[Judged]) -> None:
    ctx = container.securityContext or NO_CONTEXT
    if ctx.privileged is True:
        found.append(("privileged", f"{_label(kind, container)}: privileged", 3))
    if ctx.allowPrivilegeEscalation is True:
        found.append(("privileged", f"{_label(kind, container)}: allowPrivilegeEscalation", 2))
    if ctx.capabilities is not None and ctx.capabilities.add:
        added = [c for c in ctx.capabilities.add if c.upper() in DANGEROUS_CAPS]
        if added:
            found.append(("privileged", f"{_label(kind, container)}: adds capability {', '.join(sorted(added))}", 3))
    # The container's setting wins over the pod's.
    run_as = ctx.runAsUser if ctx.runAsUser is not None else pod_ctx.runAsUser
    if run_as == 0:
        where = "container" if ctx.runAsUser is not None else "pod"
        found.append(("root", f"{_label(kind, container)}: runAsUser 0 (set on the {where})", 2))
    elif run_as is None and (ctx.runAsNonRoot if ctx.runAsNonRoot is not None else pod_ctx.runAsNonRoot) is not True:
        why = f"{_label(kind, container)}: may run as root: the image decides (no runAsUser, no runAsNonRoot)"
        found.append(("root", why, 1))


def _pod_findings(spec: PodSpec, default_sa_automount: Mapping[str, bool | None], ns: str | None) -> list[Judged]:
    """(check, why, rank) for one pod spec."""
    found: list[Judged] = []
    pod_ctx = spec.securityContext or NO_CONTEXT
    for container in spec.initContainers or ():
        _container_findings("init container ", container, pod_ctx, found)
    for container in spec.containers or ():
        _container_findings("", container, pod_ctx, found)
    for container in spec.ephemeralContainers or ():
        _container_findings("ephemeral container ", container, pod_ctx, found)
    account = spec.serviceAccountName or spec.serviceAccount or "default"
    if account == "default":
        pod_mount = spec.automountServiceAccountToken
        account_mount = default_sa_automount.get(ns or "")
        mounted = pod_mount if pod_mount is not None else (account_mount if account_mount is not None else True)
        if mounted:
            found.append(("default-sa", "uses the default ServiceAccount, its token mounted", 2))
        else:
            found.append(("default-sa", "uses the default ServiceAccount (token not mounted)", 1))
    if spec.hostNetwork is True or spec.hostPID is True or spec.hostIPC is True:
        hosts = [h for h, on in (("hostNetwork", spec.hostNetwork), ("hostPID", spec.hostPID),
                                 ("hostIPC", spec.hostIPC)) if on is True]  # fmt: skip
        found.append(("host", ", ".join(hosts), 3))
    for volume in spec.volumes or ():
        host_path = volume.hostPath
        if host_path is not None:
            name = "?" if volume.name is None else volume.name
            found.append(("host", f"hostPath volume {name} ({'?' if host_path.path is None else host_path.path})", 3))
    return found


def check_pods(pods: Iterable[SecuredPod | Obj], default_sa_automount: Mapping[str, bool | None]) -> list[AuditFinding]:
    """Every pod's containers, identity and host access, one finding per workload and reason.

    ``default_sa_automount``: per namespace, the ``default`` ServiceAccount's ``automountServiceAccountToken``
    (None or absent: not set, and Kubernetes mounts the token)."""
    found: dict[tuple[str, str | None, str, str], AuditFinding] = {}
    # One copy of each namespace and reason kept, however many findings share it (every pod decodes its own).
    shared: dict[str, str] = {}
    for pod in pods:
        shape = pod if isinstance(pod, SecuredPod) else shaped(SecuredPod, pod)
        if shape.status is not None and shape.status.phase in FINISHED:
            continue  # finished: nothing runs
        ns, owner = _workload(shape.metadata or NO_META)
        ns = None if ns is None else shared.setdefault(ns, ns)
        for check, why, rank in _pod_findings(shape.spec or NO_SPEC, default_sa_automount, ns):
            key = (check, ns, owner, shared.setdefault(why, why))
            if key not in found:
                found[key] = AuditFinding(*key, rank)
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
