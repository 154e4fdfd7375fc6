"""The ``capacity`` section (the monthly capacity review) and the digest's resource use and errors in logs, with the
``loki`` section they are counted in when it is set (pure)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from bot.core.settings.types import Cron, Strict, http_url
from runbooks.kube import names

# Each node's use when Prometheus is configured: cAdvisor's root cgroup per node, as the kubelet's scrape labels it.
NODE_CPU = 'sum by (node) (rate(container_cpu_usage_seconds_total{id="/"}[5m]))'
NODE_MEMORY = 'sum by (node) (container_memory_working_set_bytes{id="/"})'


class Capacity(Strict):
    """The monthly capacity review (``/capacity``, ``capacity.cron``)."""

    cron: Cron = Field(default="0 9 1-7 * 1", description="the review posted to channels.digest (first Monday)")
    node_cpu: str = Field(default=NODE_CPU, description="PromQL: each node's CPU in use (cores), by `node`")
    node_memory: str = Field(default=NODE_MEMORY, description="PromQL: each node's memory in use (bytes), by `node`")


class Utilization(Strict):
    """The digest's "Resource use": nodes above ``warn`` % of their allocatable CPU or memory."""

    warn: int = Field(default=85, ge=1, le=100)


def compile_pattern(value: str) -> object:
    """The pattern as RE2 compiles it (a ValueError naming why not)."""
    import re2  # noqa: PLC0415 - the linear-time engine the bot matches with

    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(value, options=options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(f"{value!r} does not compile as RE2 ({reason})") from None


class LogErrors(Strict):
    """The digest's "Errors in logs": lines matching ``pattern`` in the last 24 h of these pods' logs."""

    namespaces: list[names.Namespace] = Field(default_factory=list, description="every pod of these namespaces")
    workloads: list[str] = Field(default_factory=list, description="namespace/name of Deployments, StatefulSets…")
    pattern: str = Field(default="ERROR|FATAL|panic", min_length=1, max_length=500)
    max_bytes: int = Field(default=262_144, ge=1024, le=16 * 1024 * 1024, description="read per container")
    max_pods: int = Field(default=200, ge=1, le=2000, description="pods read per cluster (the rest counted)")

    @field_validator("workloads")
    @classmethod
    def _workloads(cls, value: list[str]) -> list[str]:
        for ref in value:
            namespace, slash, name = ref.partition("/")
            if not slash:
                raise ValueError(f"{ref!r} is not namespace/name")
            names.label(namespace, "namespace")
            names.label(name, "workload")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        compile_pattern(value)
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.namespaces or self.workloads)


_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_TENANT = re.compile(r"^[A-Za-z0-9!._*'()|-]{1,150}$")


class LokiConfig(Strict):
    """Optional: the digest's "Errors in logs" counted in Loki (LogQL ``count_over_time``) instead of pod logs."""

    url: str
    org_id: str | None = Field(default=None, description="the tenant (X-Scope-OrgID) of a multi-tenant Loki")
    label: str = Field(default="pod", description="the stream label naming the workload: pod (by its name), app…")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            return http_url(value)
        except ValueError as exc:
            hint = ": set LOKI_AUTH instead" if "credentials" in str(exc) else ""
            raise ValueError(f"{exc}{hint}") from None

    @field_validator("org_id")
    @classmethod
    def _org_id(cls, value: str | None) -> str | None:
        if value is not None and not _TENANT.match(value):
            raise ValueError(f"{value!r} is not a Loki tenant id (letters, digits and !._*'()-, up to 150)")
        return value

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not _LABEL.match(value) or value == "namespace":
            raise ValueError(f"{value!r} is not a label name to group by (like pod, app or container)")
        return value
