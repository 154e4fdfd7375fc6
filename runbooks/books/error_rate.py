"""Runbook "High Error Rate" (operations guide): error lines in recent logs, rollout history with a
roll-back offer, and the health of the pods the workload depends on.

``--pattern`` comes from chat, so it is matched with RE2 (linear time, no backtracking: a pattern like
``(.|.)*Q`` cannot freeze the bot), on at most ``LOG_BYTES`` of each pod's log and ``LINE_CHARS`` of each line.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import re2
from pydantic import BaseModel, ConfigDict, field_validator

from runbooks.books import rollback
from runbooks.changes import Proposal
from runbooks.kube import names, rollout
from runbooks.kube.client import Cluster, path
from runbooks.kube.workload import pods, selector_for
from runbooks.registry import Runbook

TAIL = 200
MAX_PODS = 5
LOG_BYTES = 256 * 1024
LINE_CHARS = 2000


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # a bad pattern is the person's mistake, told to them, not logged by RE2
    return options


def compile_pattern(pattern: str) -> Any:
    """The pattern as RE2 (re2.error when it is not valid RE2 syntax, e.g. a backreference)."""
    return re2.compile(pattern, options=_options())


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
            compile_pattern(value)
        except re2.error as exc:
            detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise ValueError(f"the pattern is not a regular expression RE2 accepts: {detail}") from None
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
    pattern = compile_pattern(params.pattern)
    lines_read = errors = 0
    samples: list[str] = []
    for pod in found[:MAX_PODS]:
        name = str((pod.get("metadata") or {}).get("name"))
        text = cluster.text(
            path("/api/v1", params.namespace, "pods", name, "log"), tailLines=TAIL, limitBytes=LOG_BYTES
        )
        for raw in text[-LOG_BYTES:].splitlines():
            line = raw[:LINE_CHARS]
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
    shows_logs=True,
)
