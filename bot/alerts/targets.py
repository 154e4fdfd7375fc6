"""Which enrichment an alert asks for (pure): the first rule of ``alerts.enrich`` (and its defaults) whose matchers
its labels match, and the target its labels name, checked as Kubernetes names before any API sees them.

The target: ``namespace`` with ``deployment``, ``statefulset`` or ``daemonset`` (the workload itself), else ``pod``
(its owning workload, looked up from the pod's owners, else guessed from its name); ``cluster`` names one of
``kubernetes.clusters`` (else the default cluster). A name that is not a valid Kubernetes name, a namespace outside
``kubernetes.namespaces``, or no target at all is the target's ``problem``: said in one line, never sent to an API.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.alerts import routing
from bot.core.settings.alerting import EnrichRule
from runbooks.kube import names
from runbooks.kube.names import InvalidName

CHANGES = "changes"
WORKLOAD_LABELS = ("deployment", "statefulset", "daemonset")
# Kubernetes' random suffixes (pod-template-hash, a pod's own) use these characters, no vowels: "-7d4b9c8f6-x2k9p".
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
_OF_REPLICASET = re.compile(rf"^(.+)-[{_SAFE}]{{6,10}}-[{_SAFE}]{{5}}$")
_OF_STATEFULSET = re.compile(r"^(.+)-\d{1,5}$")
_OF_OTHER = re.compile(rf"^(.+)-[{_SAFE}]{{5}}$")  # a DaemonSet's or a Job's pod


@dataclass(frozen=True)
class Target:
    """One enrichment asked for: what runs, where, on what (``workload``, or the ``pod`` whose owner it is)."""

    run: str
    options: tuple[str, ...]
    cluster: str | None  # one of kubernetes.clusters; None: the default
    namespace: str | None
    workload: str | None
    pod: str | None
    alertname: str
    labels: Mapping[str, str] = field(compare=False, hash=False)
    problem: str | None = None  # why it cannot run: one line, no API call

    @property
    def shown(self) -> str:
        """``namespace/workload`` (or ``namespace/pod``) as the lines name it."""
        what = self.workload or self.pod
        where = names.shown(self.namespace or "?")
        return f"{where}/{names.shown(what)}" if what else where

    def key(self, workload: str | None = None) -> str:
        """A digest of the rule and the target (or of the workload a pod resolved to): the claim's name."""
        parts = [self.run, *self.options, self.cluster or "", self.namespace or ""]
        if self.run == CHANGES:  # the feed's scope is the workload: its pods are one
            workload = self.workload or (workload_of_pod(self.pod) if self.pod else "")
        parts += [f"workload={workload}"] if workload is not None else [f"workload={self.workload}", f"pod={self.pod}"]
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]


def rule_for(rules: Sequence[EnrichRule], labels: Mapping[str, str]) -> EnrichRule | None:
    """The first rule whose every matcher matches the labels."""
    return next((r for r in rules if all(routing.matches(m, labels) for m in r.matchers)), None)


def workload_of_pod(pod: str) -> str:
    """The workload a pod's name comes from, when its owners cannot be read: ``payments-7d4b9c8f6-x2k9p`` (a
    Deployment's ReplicaSet), ``db-0`` (a StatefulSet), ``agent-x2k9p`` (a DaemonSet); else the pod itself."""
    for pattern in (_OF_REPLICASET, _OF_STATEFULSET, _OF_OTHER):
        found = pattern.match(pod)
        if found:
            return found.group(1)
    return pod


def target(rule: EnrichRule, labels: Mapping[str, str], clusters: Sequence[str], namespaces: Sequence[str]) -> Target:
    """The target the alert's labels name for ``rule``, with its problem if it has one."""
    cluster = labels.get("cluster")
    workload = next((labels[k] for k in WORKLOAD_LABELS if labels.get(k)), None)
    pod = None if workload else labels.get("pod") or None
    found = Target(
        run=rule.run,
        options=tuple(rule.options),
        cluster=cluster if cluster in clusters else None,
        namespace=labels.get("namespace") or None,
        workload=workload,
        pod=pod,
        alertname=labels.get("alertname", "alert"),
        labels=labels,
    )
    problem = _problem(found, namespaces)
    return replace(found, problem=problem) if problem else found


def _problem(found: Target, namespaces: Sequence[str]) -> str | None:
    if found.run == CHANGES:
        return None  # the change feed reads the labels itself
    if found.namespace is None:
        return "the alert has no `namespace` label"
    if found.workload is None and found.pod is None:
        return "the alert has no `pod`, `deployment`, `statefulset` or `daemonset` label"
    try:
        names.namespace(found.namespace, namespaces)
        names.subdomain(found.workload or found.pod or "", "workload" if found.workload else "pod")
    except InvalidName as exc:
        return str(exc)
    return None


def targets(
    rules: Sequence[EnrichRule],
    alerts: Sequence[Mapping[str, str]],
    clusters: Sequence[str],
    namespaces: Sequence[str],
    limit: int,
) -> list[Target]:
    """The enrichments a delivery's firing alerts ask for: each target once, at most ``limit``."""
    found: dict[str, Target] = {}
    for labels in alerts:
        rule = rule_for(rules, labels)
        if rule is None:
            continue
        one = target(rule, labels, clusters, namespaces)
        found.setdefault(one.key(), one)
        if len(found) >= limit:
            break
    return list(found.values())
