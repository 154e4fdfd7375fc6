"""Collect the Security Audit from one cluster: pods, Services, the default ServiceAccounts and every binding,
read concurrently in worker threads, each list reduced to findings page by page as it arrives (the pods decoded into
``shapes.SecuredPod``: only the fields the audit reads).

A list that cannot be read (forbidden, missing, slow) leaves its checks out with a note naming what is missing and
the permission; the rest of the audit still stands.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from runbooks.checklist import security
from runbooks.checklist.security import AuditFinding
from runbooks.kube.client import Cluster
from runbooks.kube.errors import API_ERRORS, explain
from runbooks.kube.lean import ApiException
from runbooks.kube.shapes import SecuredPod

READ_TIMEOUT = 60.0


@dataclass
class ClusterAudit:
    name: str
    findings: list[AuditFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # checks that could not run, and why
    skipped: list[str] = field(default_factory=list)  # the checks those notes leave out
    reachable: bool = True  # False: not one list could be read
    seconds: float = 0.0


async def _read(
    what: str, checks: tuple[str, ...], reduce: Callable[[], list[AuditFinding]], timeout: float, audit: ClusterAudit
) -> list[AuditFinding]:
    try:
        return await asyncio.wait_for(asyncio.to_thread(reduce), timeout)
    except ApiException as exc:
        if exc.status == 404:  # core and RBAC APIs are always served: nothing of that kind exists
            return []
        audit.notes.append(explain(exc, what, "list"))
        audit.skipped.extend(c for c in checks if c not in audit.skipped)
        return []
    except API_ERRORS as exc:
        audit.notes.append(explain(exc, what, "list"))
        audit.skipped.extend(c for c in checks if c not in audit.skipped)
        return []


async def collect(cluster: Cluster, timeout: float = READ_TIMEOUT) -> ClusterAudit:
    started = time.perf_counter()
    audit = ClusterAudit(name=cluster.name)

    async def accounts() -> dict[str, bool | None]:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(lambda: security.default_accounts(cluster.default_service_accounts())), timeout
            )
        except ApiException as exc:
            if exc.status == 404:
                return {}
            audit.notes.append(explain(exc, "serviceaccounts", "list") + " (tokens assumed mounted)")
            return {}
        except API_ERRORS as exc:  # the pod check still runs: the token is then assumed mounted, as by default
            audit.notes.append(explain(exc, "serviceaccounts", "list") + " (tokens assumed mounted)")
            return {}

    def bindings() -> list[AuditFinding]:
        return security.check_bindings(itertools.chain(cluster.cluster_role_bindings(), cluster.role_bindings()))

    automount = await accounts()
    pod_checks = ("privileged", "root", "default-sa", "host")
    groups = await asyncio.gather(
        _read("pods", pod_checks, lambda: security.check_pods(cluster.pods_as(SecuredPod), automount), timeout, audit),
        _read("services", ("exposed",), lambda: security.check_services(cluster.services()), timeout, audit),
        _read("rolebindings and clusterrolebindings", ("rbac",), bindings, timeout, audit),
    )
    audit.findings = security.sort(f for group in groups for f in group)
    audit.reachable = len(audit.skipped) < len(security.CHECKS) or bool(audit.findings)
    audit.seconds = time.perf_counter() - started
    return audit
