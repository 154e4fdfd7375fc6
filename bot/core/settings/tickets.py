"""The ``tickets`` section (pure): one issue tracker per incident, Jira, GitHub Issues or Linear, and when its ticket
is made. The tracker's token lives in the environment (``JIRA_API_TOKEN``, ``GITHUB_TOKEN``, ``LINEAR_API_KEY``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.core.settings.types import Duration, HttpUrl, Strict
from bot.core.severity import Severity

CreateOn = Literal["opened", "acknowledged", "never"]
Stage = Literal["acknowledged", "mitigated", "resolved", "closed", "reopened"]
STAGES: tuple[Stage, ...] = ("acknowledged", "mitigated", "resolved", "closed", "reopened")
JIRA_PROJECT = re.compile(r"^[A-Z][A-Z0-9_]{1,9}$")
JIRA_FIELD = re.compile(r"^customfield_[0-9]{1,9}$")
GITHUB_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
LINEAR_TEAM = re.compile(r"^[A-Z][A-Z0-9]{0,6}$")
NAME = r"^[^\x00-\x1f]{1,100}$"  # an issue type, priority, transition or state name as the tracker shows it
LABEL = re.compile(r"^[^\s,\x00-\x1f]{1,50}$")


def _within_a_minute(value: timedelta) -> timedelta:
    if not timedelta(seconds=1) <= value <= timedelta(minutes=1):
        raise ValueError("between 1s and 1m")
    return value


def _stages(**names: str) -> dict[Stage, str]:
    return {stage: names[stage] for stage in STAGES if stage in names}


def _names(value: dict[str, str], what: str) -> dict[str, str]:
    bad = [v for v in value.values() if not re.match(NAME, v)]
    if bad:
        raise ValueError(f"not {what} names: {', '.join(repr(b) for b in bad)}")
    return value


def _labels(value: list[str]) -> list[str]:
    bad = [label for label in value if not LABEL.match(label)]
    if bad:
        raise ValueError(f"not labels (no spaces or commas, at most 50 characters): {', '.join(bad)}")
    return value


class _Tracker(Strict):
    """What every tracker's settings have: each call's timeout (10 s, at most a minute)."""

    timeout: Duration = timedelta(seconds=10)

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: timedelta) -> timedelta:
        return _within_a_minute(value)


class JiraTickets(_Tracker):
    """Jira Cloud (``email`` + ``JIRA_API_TOKEN``, REST v3) or Data Center (no email: ``JIRA_API_TOKEN`` is a
    personal access token, REST v2)."""

    url: HttpUrl
    email: str | None = Field(default=None, pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}$")
    project: str
    issue_type: str = Field(default="Incident", pattern=NAME)
    action_issue_type: str = Field(default="Task", pattern=NAME)
    priority: dict[Severity, str] = Field(
        default_factory=lambda: {Severity.P1: "Highest", Severity.P2: "High", Severity.P3: "Medium", Severity.P4: "Low"}
    )
    labels: list[str] = Field(default_factory=lambda: ["incident"])
    transitions: dict[Stage, str] = Field(default_factory=lambda: _stages(resolved="Done"))
    custom_fields: dict[str, str | int | float | bool] = Field(default_factory=dict)  # customfield_10010: value
    api_version: Literal[2, 3] | None = None  # default: 3 with an email (Cloud), else 2 (Data Center)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        if not JIRA_PROJECT.match(value):
            raise ValueError(f"{value!r} is not a Jira project key (capitals and digits, like OPS)")
        return value

    @field_validator("priority", "transitions")
    @classmethod
    def _named(cls, value: dict[str, str]) -> dict[str, str]:
        return _names(value, "Jira")

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        return _labels(value)

    @field_validator("custom_fields")
    @classmethod
    def _fields(cls, value: dict[str, object]) -> dict[str, object]:
        bad = [k for k in value if not JIRA_FIELD.match(k)]
        if bad:
            raise ValueError(f"custom fields go by id, like customfield_10010: {', '.join(bad)}")
        return value

    @property
    def version(self) -> int:
        return self.api_version or (3 if self.email else 2)


class GithubTickets(_Tracker):
    """GitHub Issues (``GITHUB_TOKEN``): open/closed, and a label for the severity and the stage."""

    repo: str
    api_url: HttpUrl = "https://api.github.com"
    labels: list[str] = Field(default_factory=lambda: ["incident"])

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str) -> str:
        if not GITHUB_REPO.match(value):
            raise ValueError(f"{value!r} is not a GitHub repository (owner/name)")
        return value

    @field_validator("api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        return _labels(value)


class LinearTickets(_Tracker):
    """Linear (``LINEAR_API_KEY``, GraphQL): the team by its key, the incident's stages as workflow states."""

    team: str
    api_url: HttpUrl = "https://api.linear.app/graphql"
    states: dict[Stage, str] = Field(
        default_factory=lambda: _stages(
            acknowledged="In Progress", resolved="Done", closed="Done", reopened="In Progress"
        )
    )

    @field_validator("team")
    @classmethod
    def _team(cls, value: str) -> str:
        if not LINEAR_TEAM.match(value):
            raise ValueError(f"{value!r} is not a Linear team key (capitals and digits, like OPS)")
        return value

    @field_validator("states")
    @classmethod
    def _named(cls, value: dict[str, str]) -> dict[str, str]:
        return _names(value, "Linear workflow state")


class Tickets(Strict):
    """``tickets``: one tracker; an incident's ticket is made at ``create_on`` (per severity, or for all)."""

    create_on: CreateOn | dict[Severity, CreateOn] = "acknowledged"
    mirror_updates: bool = False  # status updates as comments on the ticket
    retry_max: Duration = timedelta(seconds=30)  # a tracker down is tried again, backing off to this
    jira: JiraTickets | None = None
    github: GithubTickets | None = None
    linear: LinearTickets | None = None

    @field_validator("retry_max")
    @classmethod
    def _retry(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= value <= timedelta(minutes=5):
            raise ValueError("between 1s and 5m")
        return value

    @model_validator(mode="after")
    def _one_tracker(self) -> Tickets:
        given = self.trackers
        if len(given) > 1:
            raise ValueError(f"{' and '.join(given)} are both set: one tracker at a time (keep one of them)")
        return self

    @property
    def trackers(self) -> list[str]:
        return [name for name in ("jira", "github", "linear") if getattr(self, name) is not None]

    @property
    def tracker(self) -> str | None:
        return self.trackers[0] if self.trackers else None

    def when(self, severity: Severity) -> CreateOn:
        """When an incident of ``severity`` gets its ticket (a severity left out of a map: acknowledged)."""
        if isinstance(self.create_on, str):
            return self.create_on
        return self.create_on.get(severity, "acknowledged")


TOKENS = {"jira": "JIRA_API_TOKEN", "github": "GITHUB_TOKEN", "linear": "LINEAR_API_KEY"}
