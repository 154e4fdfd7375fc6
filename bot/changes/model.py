"""What an incident is about, and its changes ranked most suspicious first (pure).

The scope comes from ``/incident open … --service=namespace/workload`` or the alert's labels (``namespace`` and
``deployment`` / ``statefulset`` / ``daemonset``, or a ``pod`` named after its workload); the ranking puts the
scope's own workload before its namespace before the rest of the cluster, and within each the change closest to the
incident's start first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.incidents.model import Incident
from runbooks.errors import BadRequest
from runbooks.kube import names
from runbooks.kube.history.model import Change

WORKLOAD_LABELS = ("deployment", "statefulset", "daemonset")
ANY = "any"  # a workload known by name only (a pod's, or ``--service``'s): any kind of that name
# A Deployment's pod: <deployment>-<pod-template-hash>-<5 chars>; a StatefulSet's: <statefulset>-<ordinal>; a
# DaemonSet's: <daemonset>-<5 chars>. Kubernetes writes the hash and the suffix in its "safe" alphabet (no vowels).
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_DEPLOYMENT_POD = re.compile(rf"^(?P<name>.+)-{_SAFE}{{6,10}}-{_SAFE}{{5}}$")
_STATEFUL_POD = re.compile(r"^(?P<name>.+)-\d+$")
_DAEMON_POD = re.compile(rf"^(?P<name>.+)-{_SAFE}{{5}}$")


@dataclass(frozen=True)
class Scope:
    """Where an incident's changes are looked for first; ``cluster`` None: every configured cluster."""

    cluster: str | None = None
    namespace: str | None = None
    workload: str | None = None  # ``deployment/api-gateway``, or ``any/api-gateway`` (known by name only)

    @property
    def shown(self) -> str:
        if self.workload:
            return f"{self.namespace}/{self.workload.split('/', 1)[1]}"
        return self.namespace or "the whole cluster"


def _valid(value: str | None, what: str) -> str | None:
    if not value:
        return None
    try:
        return names.subdomain(value, what)
    except BadRequest:
        return None  # a label that is no Kubernetes name is not followed (it never reaches an API)


def pod_workload(pod: str) -> str | None:
    """The workload a pod name says it belongs to, by the controllers' naming: ``deployment/api-gateway`` for
    ``api-gateway-7d9f8b6c5-x2k4p``; a guess, matched against the changes' workloads by name only."""
    for pattern in (_DEPLOYMENT_POD, _STATEFUL_POD, _DAEMON_POD):
        found = pattern.match(pod)
        if found:
            return found.group("name")
    return None


def scope_of(incident: Incident, labels: Mapping[str, str] | None, clusters: Sequence[str]) -> Scope:
    """The incident's scope: its ``--service``, else the alert's labels; a ``cluster`` label naming a configured
    cluster narrows it to that one."""
    given = dict(labels if labels is not None else (incident.alert.labels if incident.alert else {}))
    cluster = given.get("cluster") if given.get("cluster") in clusters else None
    if incident.service:
        served, _, workload = incident.service.partition("/")
        return Scope(cluster, served, f"{ANY}/{workload}" if workload else None)
    namespace = _valid(given.get("namespace"), "namespace")
    if namespace is None:
        return Scope(cluster)
    for kind in WORKLOAD_LABELS:
        named = _valid(given.get(kind), kind)
        if named:
            return Scope(cluster, namespace, f"{kind}/{named}")
    pod = _valid(given.get("pod"), "pod")
    guessed = pod_workload(pod) if pod else None
    return Scope(cluster, namespace, f"{ANY}/{guessed}" if guessed else None)


def _same_workload(change: Change, scope: Scope) -> bool:
    if not scope.workload or change.namespace != scope.namespace or not change.workload:
        return False
    kind, _, name = scope.workload.partition("/")
    their_kind, _, their_name = change.workload.partition("/")
    return name == their_name and kind in (their_kind, ANY)


def tier(change: Change, scope: Scope) -> int:
    """0: the scope's workload, 1: its namespace, 2: the rest of the cluster."""
    if _same_workload(change, scope):
        return 0
    if scope.namespace and change.namespace == scope.namespace:
        return 1
    return 2


def ranked(changes: Sequence[Change], scope: Scope, start: datetime) -> list[Change]:
    """Most suspicious first: by tier, then by how close to ``start`` (a change just before it first)."""
    return sorted(changes, key=lambda c: (tier(c, scope), abs((start - c.at).total_seconds()), c.name))
