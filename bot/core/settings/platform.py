"""Config sections of the platform the bot reads and changes (pure): the digest's schedule, Kubernetes clusters, Velero,
AWS (RDS, EKS), Prometheus' key metrics, maintenance windows and their smoke tests."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from bot.core.settings.capacity import LogErrors, Utilization
from bot.core.settings.impersonate import Impersonate
from bot.core.settings.types import Cron, Duration, HttpUrl, Strict, TimeZoneName, http_url
from runbooks.aws import names as rds_names
from runbooks.kube import names

# The operations guide's "Key Metrics to Monitor" as PromQL; ``prometheus.queries`` overrides them by name.
DEFAULT_PROMQL: dict[str, str] = {
    "request_rate": "sum(rate(http_requests_total[5m]))",
    "error_rate": 'sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
    "latency_p50": "histogram_quantile(0.5, sum(rate(http_request_duration_seconds_bucket[5m])) by (le))",
    "latency_p95": "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[5m])) by (le))",
    "latency_p99": "histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[5m])) by (le))",
    "db_connections": "sum(pg_stat_activity_count)",
    "kafka_consumer_lag": "sum(kafka_consumergroup_lag)",
}


class DigestSchedule(Strict):
    cron: Cron = "0 8 * * 1-5"
    timezone: TimeZoneName = "UTC"
    check_timeout: Duration = timedelta(seconds=20)
    utilization: Utilization = Utilization()
    log_errors: LogErrors = LogErrors()


class ClusterRef(Strict):
    """One entry of ``kubernetes.clusters``: a name for chat and a kubeconfig context."""

    name: str
    context: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return names.label(value, "cluster")


class Kubernetes(Strict):
    clusters: list[ClusterRef] = Field(default_factory=list)
    namespaces: list[names.Namespace] = Field(
        default_factory=list, description="runbooks may act only here; empty = any"
    )
    rollout_timeout: Duration = timedelta(minutes=5)
    share_logs: bool = Field(
        default=False,
        description="post runbook reports that quote pod logs in the channel (default: only to the person who ran it)",
    )
    impersonate: Impersonate | None = Field(
        default=None, description="make changes from chat as the clicker's Kubernetes user/groups (opt-in)"
    )

    def refs(self) -> list[tuple[str, str | None]]:
        """(name, kubeconfig context) of every listed cluster, in order."""
        return [(c.name, c.context) for c in self.clusters]

    @property
    def cluster_names(self) -> list[str]:
        return [c.name for c in self.clusters]


class Changes(Strict):
    """The change feed (``/changes``, an incident's "What changed", the hand-off's review)."""

    lookback: Duration = Field(default=timedelta(hours=2), description="an incident's changes: this long before it")
    shown: int = Field(default=10, ge=1, le=40, description="lines of an incident's changes (the rest counted)")
    secrets: bool = Field(
        default=False,
        description="Secret changes (by name) and Helm releases: needs list on secrets "
        "(deploy/rbac-changes-secrets.yaml), which the bot is otherwise never given",
    )

    @field_validator("lookback")
    @classmethod
    def _lookback(cls, value: timedelta) -> timedelta:
        if not timedelta(minutes=5) <= value <= timedelta(days=7):
            raise ValueError("between 5m and 7d")
        return value


class Velero(Strict):
    namespace: names.Namespace = "velero"


class Rds(Strict):
    """``instances: [prod-db, …]`` or ``instances: all``."""

    instances: list[str] | Literal["all"] = Field(default_factory=list)

    @field_validator("instances")
    @classmethod
    def _instances(cls, value: list[str] | str) -> list[str] | str:
        if isinstance(value, str):
            return value
        return [rds_names.instance(v) for v in value]

    @property
    def wanted(self) -> list[str] | None:
        """The instances to check; None means every instance of the account and region."""
        return None if self.instances == "all" else list(self.instances)


_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
_EKS_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")


def _aws_region(value: str | None) -> str | None:
    if value is not None and not _REGION.match(value):
        raise ValueError(f"{value!r} is not an AWS region (like us-east-1)")
    return value


class EksCluster(Strict):
    """The EKS cluster behind one of ``kubernetes.clusters``."""

    name: str
    region: str | None = None  # default: aws.region

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _EKS_NAME.match(value):
            raise ValueError(f"{value!r} is not an EKS cluster name (letters, digits, '-' and '_', up to 100)")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return _aws_region(value)


class Eks(Strict):
    clusters: dict[names.ClusterName, EksCluster] = Field(default_factory=dict)


class AwsConfig(Strict):
    region: str = "us-east-1"
    rds: Rds = Rds()
    eks: Eks = Eks()

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return str(_aws_region(value))

    def eks_region(self, cluster: EksCluster) -> str:
        return cluster.region or self.region


class SmokeTest(Strict):
    """One check of ``maintenance.smoke_tests``: the URL answers ``expect_status`` within ``timeout``."""

    name: str = Field(min_length=1, max_length=60)
    url: HttpUrl
    expect_status: int = Field(default=200, ge=100, le=599)
    timeout: Duration = timedelta(seconds=5)


class Maintenance(Strict):
    smoke_tests: list[SmokeTest] = Field(default_factory=list)
    max_duration: Duration = timedelta(days=7)  # a longer window is refused
    grace: Duration = timedelta(minutes=15)  # a window holds pages in its scope until its end plus this


class PrometheusConfig(Strict):
    """Optional: the digest's key-metrics section. Absent = the section is omitted."""

    url: str
    error_target: float = Field(default=0.01, gt=0, lt=1)
    queries: dict[str, str] = Field(default_factory=dict, description="overrides of the default PromQL, by name")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            return http_url(value)
        except ValueError as exc:
            hint = ": set PROMETHEUS_AUTH instead" if "credentials" in str(exc) else ""
            raise ValueError(f"{exc}{hint}") from None

    @field_validator("queries")
    @classmethod
    def _queries(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(DEFAULT_PROMQL))
        if unknown:
            raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(DEFAULT_PROMQL)}")
        return value

    @property
    def all_queries(self) -> dict[str, str]:
        return {**DEFAULT_PROMQL, **self.queries}
