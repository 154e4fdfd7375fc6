"""The YAML config file (``CHATOPS_CONFIG``) as pydantic models, one per section (pure).

Unknown keys are rejected to catch typos; durations read like ``15m``; every default is the
operations guide's.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bot.core.ids import GROUP_ID
from bot.core.settings.types import (
    ChannelId,
    Cron,
    Duration,
    Strict,
    TimeZoneName,
    UserId,
    UserOrGroupId,
    duration,
)
from bot.core.severity import Severity
from runbooks.aws import names as rds_names
from runbooks.kube import names

_HANDOFF = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01][0-9]|2[0-3]):([0-5][0-9])$", re.IGNORECASE)

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


class Channels(Strict):
    incidents: ChannelId
    digest: ChannelId | None = None
    stakeholders: ChannelId | None = None


class SeverityPolicy(Strict):
    ack_within: timedelta | Literal["next_business_day"]

    @field_validator("ack_within", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return value if value == "next_business_day" else duration(value)


DEFAULT_SEVERITIES: dict[Severity, SeverityPolicy] = {
    Severity.P1: SeverityPolicy(ack_within=timedelta(minutes=15)),
    Severity.P2: SeverityPolicy(ack_within=timedelta(hours=1)),
    Severity.P3: SeverityPolicy(ack_within=timedelta(hours=4)),
    Severity.P4: SeverityPolicy(ack_within="next_business_day"),
}


class Escalation(Strict):
    repeat_every: Duration = timedelta(minutes=10)
    poll_interval: Duration = timedelta(seconds=1)
    claim_lease: Duration = timedelta(seconds=60)
    retry_failed_page_after: Duration = timedelta(seconds=30)


class OnCallConfig(Strict):
    timezone: TimeZoneName = "UTC"
    handoff: str = "mon 09:00"
    rotation: list[UserId] = Field(default_factory=list)
    lead: UserId | None = None
    rotation_start: date | None = Field(
        default=None, description="a hand-off day on which rotation[0] was primary; default: the first start"
    )

    @field_validator("handoff")
    @classmethod
    def _handoff(cls, value: str) -> str:
        if not _HANDOFF.match(value.strip()):
            raise ValueError(f"{value!r} is not a weekly hand-off time; write a weekday and 24h time, e.g. 'mon 09:00'")
        return value.strip().lower()


class Permissions(Strict):
    responders: list[UserOrGroupId] = Field(default_factory=list)
    operators: list[UserOrGroupId] = Field(default_factory=list)


class DigestSchedule(Strict):
    cron: Cron = "0 8 * * 1-5"
    timezone: TimeZoneName = "UTC"
    check_timeout: Duration = timedelta(seconds=20)


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

    def refs(self) -> list[tuple[str, str | None]]:
        """(name, kubeconfig context) of every listed cluster, in order."""
        return [(c.name, c.context) for c in self.clusters]

    @property
    def cluster_names(self) -> list[str]:
        return [c.name for c in self.clusters]


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
    url: str
    expect_status: int = Field(default=200, ge=100, le=599)
    timeout: Duration = timedelta(seconds=5)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        if "@" in value.split("//", 1)[1].split("/", 1)[0]:
            raise ValueError("has credentials in it; secrets never go in this file")
        return value


class Maintenance(Strict):
    smoke_tests: list[SmokeTest] = Field(default_factory=list)
    max_duration: Duration = timedelta(days=7)  # a longer window is refused


# The Security Audit's checks (runbooks.checklist.security.CHECKS; a unit test keeps the two equal).
AuditCheck = Literal["privileged", "root", "default-sa", "exposed", "rbac", "host"]


class SecurityException(Strict):
    """An accepted finding: ``match`` is a glob on ``namespace/Kind/name`` (``kube-system/*``)."""

    match: str = Field(min_length=1, max_length=253)
    checks: list[AuditCheck] = Field(default_factory=list, description="empty: every check")
    reason: str = Field(min_length=1, max_length=300)
    until: date | None = None  # the day it stops silencing (none: until removed)


class Security(Strict):
    cron: Cron = "0 9 1-7 * 1"  # the first Monday of the month, 09:00 in digest.timezone
    exceptions: list[SecurityException] = Field(default_factory=list)


class Reports(Strict):
    weekly_cron: Cron = "0 9 * * 1"  # Monday 09:00 in digest.timezone
    anomaly_percent: float = Field(default=30.0, gt=0)  # a service grew by more than this…
    anomaly_dollars: float = Field(default=50.0, ge=0)  # …and by more than this much, week over week


# Alertmanager's matcher syntax: name, operator (=, !=, =~, !~), value (regexes anchored, as Alertmanager does).
_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*\"?(.*?)\"?\s*$")


def parse_matcher(text: str) -> tuple[str, str, str]:
    """``team=~payments|checkout`` → (name, operator, value); a regex is checked to compile (RE2 syntax)."""
    found = _MATCHER.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a label matcher like severity=critical or team=~payments|checkout")
    name, op, value = found.groups()
    if "~" in op:
        import re2  # noqa: PLC0415 - the linear-time engine the alerts are matched with

        options = re2.Options()
        options.log_errors = False
        try:
            re2.compile(value, options=options)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise ValueError(f"{text!r}: the regex does not compile ({reason})") from None
    return name, op, value


class AlertRoute(Strict):
    """Alerts whose labels match every matcher get this severity (else the ``severity`` label's) and channel."""

    match: list[str] = Field(min_length=1)
    severity: Severity | None = None
    channel: ChannelId | None = None  # where its incidents are announced (default channels.incidents)

    @field_validator("match")
    @classmethod
    def _matchers(cls, value: list[str]) -> list[str]:
        for text in value:
            parse_matcher(text)
        return value


class AlertDefault(Strict):
    severity: Severity | None = None  # None: the severity label decides (critical → P1, …)
    channel: ChannelId | None = None


class Alerts(Strict):
    routes: list[AlertRoute] = Field(default_factory=list)
    default: AlertDefault = AlertDefault()
    min_severity: Severity = Severity.P3  # lower alerts post a notice and open nothing
    auto_mitigate: bool = False  # a group whose alerts all resolved moves its incident to mitigated
    max_new_per_minute: int = Field(default=5, ge=1, le=1000)
    alertmanager_url: str | None = None  # /alerts, the hand-off and the digest read what is firing here

    @field_validator("alertmanager_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/@]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL without credentials")
        return value.rstrip("/") if value else value


class Statuspage(Strict):
    """Atlassian Statuspage (the API key is STATUSPAGE_API_KEY in the environment, never here)."""

    page_id: str = Field(pattern=r"^[a-z0-9]{4,32}$")
    api_url: str = "https://api.statuspage.io/v1"
    min_severity: Severity = Severity.P2  # incidents at or above it get "Post to status page"
    components: dict[str, str] = Field(default_factory=dict)  # service → component id

    @field_validator("api_url")
    @classmethod
    def _api(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/@]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL without credentials")
        return value.rstrip("/")

    @field_validator("components")
    @classmethod
    def _components(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [c for c in value.values() if not re.match(r"^[a-z0-9]{4,32}$", c)]
        if bad:
            raise ValueError(f"not Statuspage component ids: {', '.join(bad)}")
        return value


class IncidentChannels(Strict):
    """``incident_channels: true`` or a mapping with these keys."""

    enabled: bool = False
    min_severity: Severity = Severity.P4
    archive_on_close: bool = True
    private: bool = False  # private channels (needs the groups:write scope): only the invited can read

    @model_validator(mode="before")
    @classmethod
    def _from_bool(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value

    def wanted(self, severity: Severity) -> bool:
        """P1 is the highest: a channel for severities at or above ``min_severity``."""
        return self.enabled and severity.value <= self.min_severity.value


class Updates(Strict):
    remind_after: Duration = timedelta(minutes=30)
    remind_severities: list[Severity] = Field(default_factory=lambda: [Severity.P1, Severity.P2])


class PrometheusConfig(Strict):
    """Optional: the digest's key-metrics section. Absent = the section is omitted."""

    url: str
    error_target: float = Field(default=0.01, gt=0, lt=1)
    queries: dict[str, str] = Field(default_factory=dict, description="overrides of the default PromQL, by name")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        if "@" in value.split("//", 1)[1].split("/", 1)[0]:
            raise ValueError("has credentials in it; secrets never go in this file: set PROMETHEUS_AUTH instead")
        return value

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


class BotConfig(Strict):
    """The YAML config file (``CHATOPS_CONFIG``). Unknown keys are rejected to catch typos."""

    channels: Channels
    incident_channels: IncidentChannels = IncidentChannels()
    updates: Updates = Updates()
    severities: dict[Severity, SeverityPolicy] = Field(default_factory=dict)
    escalation: Escalation = Escalation()
    oncall: OnCallConfig = OnCallConfig()
    permissions: Permissions = Permissions()
    digest: DigestSchedule = DigestSchedule()
    kubernetes: Kubernetes = Kubernetes()
    prometheus: PrometheusConfig | None = None
    velero: Velero = Velero()
    aws: AwsConfig | None = None  # absent: nothing in AWS is read or offered
    maintenance: Maintenance = Maintenance()
    security: Security = Security()
    reports: Reports = Reports()
    alerts: Alerts = Alerts()
    statuspage: Statuspage | None = None

    @model_validator(mode="after")
    def _fill_severities(self) -> BotConfig:
        merged = {**DEFAULT_SEVERITIES, **self.severities}
        object.__setattr__(self, "severities", dict(sorted(merged.items())))
        return self

    @model_validator(mode="after")
    def _eks_clusters_are_configured(self) -> BotConfig:
        if self.aws is None:
            return self
        unknown = sorted(set(self.aws.eks.clusters) - set(self.kubernetes.cluster_names))
        if unknown:
            raise ValueError(
                f"aws.eks.clusters names {', '.join(unknown)}, not in kubernetes.clusters: the EKS map is keyed by "
                "those names"
            )
        return self

    @model_validator(mode="after")
    def _paged_people_respond(self) -> BotConfig:
        """Everyone who can be paged must be able to acknowledge. Checked when ``responders`` lists only users
        (user-group members are known only to Slack)."""
        responders = self.permissions.responders
        if not responders or any(GROUP_ID.match(r) for r in responders):
            return self
        paged = [*self.oncall.rotation, *([self.oncall.lead] if self.oncall.lead else [])]
        missing = sorted({u for u in paged if u not in responders})
        if missing:
            raise ValueError(
                f"oncall names {', '.join(missing)}, not in permissions.responders: they would be paged but could "
                "not acknowledge; add them there (or a user group holding them)"
            )
        return self
