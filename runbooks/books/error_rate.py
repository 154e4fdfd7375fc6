"""Runbook "High Error Rate" (operations guide): error lines in recent logs, rollout history with a
roll-back offer, and the health of the pods the workload depends on."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator

from runbooks.books import rollback
from runbooks.kube import names, rollout
from runbooks.kube.changes import Proposal
from runbooks.kube.client import Cluster
from runbooks.kube.workload import pods, selector_for
from runbooks.registry import Runbook

TAIL = 200
MAX_PODS = 5
SELECTOR = re.compile(r"^[A-Za-z0-9._/-]+(=|!=)[A-Za-z0-9._-]*(,[A-Za-z0-9._/-]+(=|!=)[A-Za-z0-9._-]*)*$")


class ErrorRateParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    workload: names.WorkloadName
    namespace: names.Namespace = "default"
    pattern: str = "ERROR"
    deps: str | None = None  # label selector of the pods it depends on, e.g. app=database-service

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        if len(value) > 200:
            raise ValueError("the pattern is longer than 200 characters")
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"the pattern is not a regular expression: {exc}") from None
        return value

    @field_validator("deps")
    @classmethod
    def _deps(cls, value: str | None) -> str | None:
        if value is not None and not SELECTOR.match(value):
            raise ValueError(f"`{value[:40]}` is not a label selector like app=database-service")
        return value


class ErrorRateReport(BaseModel):
    namespace: str
    workload: str
    pattern: str
    pods_seen: int
    lines_read: int
    error_lines: int
    samples: list[str]
    history: rollout.History | None
    dependencies: list[str]  # problem lines; empty = healthy
    dependencies_checked: int


def diagnose(cluster: Cluster, params: ErrorRateParams) -> ErrorRateReport:
    selector, _ = selector_for(cluster, params.namespace, params.workload)
    found = pods(cluster, params.namespace, selector)
    pattern = re.compile(params.pattern)
    lines_read = errors = 0
    samples: list[str] = []
    for pod in found[:MAX_PODS]:
        name = str((pod.get("metadata") or {}).get("name"))
        text = cluster.text(cluster.core.read_namespaced_pod_log, name, params.namespace, tail_lines=TAIL)
        for line in text.splitlines():
            lines_read += 1
            if pattern.search(line):
                errors += 1
                if len(samples) < 5 and line not in samples:
                    samples.append(line[:300])
    try:
        history: rollout.History | None = rollout.history(cluster, params.namespace, params.workload)
    except Exception:  # noqa: BLE001 - not a Deployment (or unreadable): the rest of the report still helps
        history = None
    problems: list[str] = []
    checked = 0
    if params.deps:
        for pod in pods(cluster, params.namespace, params.deps):
            checked += 1
            meta, status = pod.get("metadata") or {}, pod.get("status") or {}
            ready = (
                all(c.get("ready") for c in status.get("containerStatuses") or []) and status.get("phase") == "Running"
            )
            if not ready:
                problems.append(f"{meta.get('name')}: {status.get('phase', 'Unknown')}, not ready")
    return ErrorRateReport(
        namespace=params.namespace,
        workload=params.workload,
        pattern=params.pattern,
        pods_seen=len(found),
        lines_read=lines_read,
        error_lines=errors,
        samples=samples,
        history=history,
        dependencies=problems,
        dependencies_checked=checked,
    )


def _propose(report: ErrorRateReport, cluster: str | None, now: datetime) -> list[Proposal]:
    """The roll-back offers of the workload's rollout history (when it is a Deployment)."""
    return rollback.proposals(report.history, cluster) if report.history is not None else []


RUNBOOK = Runbook(
    name="high-error-rate",
    summary="High Error Rate: error lines in recent logs, rollout history with roll-back, dependency pods",
    usage="/runbook high-error-rate <workload> [namespace] [--pattern=ERROR] [--deps=app=database-service]",
    params=ErrorRateParams,
    steps=("check error rate in logs", "check recent deployments", "roll back if needed", "check dependencies"),
    mutating_steps=("roll back if needed",),
    run=diagnose,
    propose=_propose,
)
