"""The YAML config file (``CHATOPS_CONFIG``) as pydantic models, one per section (pure); the sections live by
concept in ``incident_response``, ``platform``, ``alerting`` and ``reporting`` beside this module.

Unknown keys are rejected to catch typos; durations read like ``15m``; every default is the operations guide's.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from bot.core.ids import GROUP_ID
from bot.core.settings.alerting import (
    AlertDefault,
    AlertHeartbeat,
    AlertRoute,
    Alerts,
    Heartbeat,
    Statuspage,
    heartbeat_names,
    parse_matcher,
)
from bot.core.settings.capacity import Capacity, LokiConfig
from bot.core.settings.dr import Dr
from bot.core.settings.incident_response import (
    DEFAULT_SEVERITIES,
    Channels,
    Escalation,
    IncidentChannels,
    OnCallConfig,
    Permissions,
    SeverityPolicy,
    Updates,
)
from bot.core.settings.paging import Paging
from bot.core.settings.platform import (
    DEFAULT_PROMQL,
    AwsConfig,
    Changes,
    ClusterRef,
    DigestSchedule,
    Eks,
    EksCluster,
    Kubernetes,
    Maintenance,
    PrometheusConfig,
    Rds,
    SmokeTest,
    Velero,
)
from bot.core.settings.reporting import AuditCheck, Reports, Security, SecurityException
from bot.core.settings.teams import IMPLICIT, Team, check_teams, implicit_team
from bot.core.settings.tickets import Tickets
from bot.core.settings.types import Strict
from bot.core.severity import Severity

__all__ = [
    "DEFAULT_PROMQL",
    "DEFAULT_SEVERITIES",
    "AlertDefault",
    "AlertHeartbeat",
    "AlertRoute",
    "Alerts",
    "AuditCheck",
    "AwsConfig",
    "BotConfig",
    "Changes",
    "Channels",
    "ClusterRef",
    "DigestSchedule",
    "Eks",
    "EksCluster",
    "Escalation",
    "Heartbeat",
    "IncidentChannels",
    "Kubernetes",
    "LokiConfig",
    "Maintenance",
    "OnCallConfig",
    "Paging",
    "Permissions",
    "PrometheusConfig",
    "Rds",
    "Reports",
    "Security",
    "SecurityException",
    "SeverityPolicy",
    "SmokeTest",
    "Statuspage",
    "Team",
    "Tickets",
    "Updates",
    "Velero",
    "parse_matcher",
]


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
    changes: Changes = Changes()
    dr: Dr = Dr()
    capacity: Capacity = Capacity()
    prometheus: PrometheusConfig | None = None
    loki: LokiConfig | None = None  # absent: the digest's errors in logs are read from pod logs
    velero: Velero = Velero()
    aws: AwsConfig | None = None  # absent: nothing in AWS is read or offered
    maintenance: Maintenance = Maintenance()
    security: Security = Security()
    reports: Reports = Reports()
    alerts: Alerts = Alerts()
    statuspage: Statuspage | None = None
    heartbeats: Annotated[dict[str, Heartbeat], AfterValidator(heartbeat_names)] = Field(default_factory=dict)
    paging: Paging = Paging()
    tickets: Tickets = Tickets()  # an issue tracker: each incident's ticket, kept in sync
    teams: dict[str, Team] = Field(default_factory=dict)  # none: the oncall section is the one team
    default_team: str | None = None  # takes what no team owns (default: the first team)

    @model_validator(mode="after")
    def _teams(self) -> BotConfig:
        check_teams(self.teams, self.default_team, self.oncall)
        for route in self.alerts.routes:
            if route.team is not None and route.team not in self.teams:
                raise ValueError(f"alerts.routes: team {route.team!r} is not one of teams ({', '.join(self.teams)})")
        return self

    def team_map(self) -> dict[str, Team]:
        """Every team by name, in the config's order; without ``teams``, the ``oncall`` section as one."""
        return dict(self.teams) if self.teams else {IMPLICIT: implicit_team(self.oncall)}

    @property
    def home_team(self) -> str:
        """The team that takes what nobody owns."""
        return self.default_team or next(iter(self.teams), IMPLICIT)

    def team_channel(self, team: str) -> str:
        found = self.team_map().get(team)
        return (found.channel if found else None) or self.channels.incidents

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
        paged = [p for team in self.team_map().values() for p in team.members]
        missing = sorted({u for u in paged if u not in responders})
        if missing:
            raise ValueError(
                f"oncall names {', '.join(missing)}, not in permissions.responders: they would be paged but could "
                "not acknowledge; add them there (or a user group holding them)"
            )
        return self
