"""Settings: secrets and endpoints from the environment, behaviour from the YAML config file.

Both are validated with pydantic at start-up; every problem is collected into one
:class:`SettingsError` so the operator sees the full list at once.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.durations import parse_duration
from bot.incidents.model import Severity

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*,/\-?]+$")
_HANDOFF = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01][0-9]|2[0-3]):([0-5][0-9])$", re.IGNORECASE)


def _channel_id(value: str) -> str:
    if not CHANNEL_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack channel id (like C0123ABCD; copy it from the channel's details)")
    return value


def _user_id(value: str) -> str:
    if not USER_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack user id (like U0123ABCD)")
    return value


def _user_or_group_id(value: str) -> str:
    if not (USER_ID.match(value) or GROUP_ID.match(value)):
        raise ValueError(f"{value!r} is not a Slack user id (U…) or user group id (S…)")
    return value


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_duration(f"{int(value)}s")
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 90s, 15m or 4h")
    return parse_duration(value)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (like Europe/Berlin or UTC)") from None
    return value


ChannelId = Annotated[str, AfterValidator(_channel_id)]
UserId = Annotated[str, AfterValidator(_user_id)]
UserOrGroupId = Annotated[str, AfterValidator(_user_or_group_id)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
Duration = Annotated[timedelta, Field(description="e.g. 90s, 15m, 4h")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channels(_Strict):
    incidents: ChannelId
    digest: ChannelId | None = None
    stakeholders: ChannelId | None = None


class SeverityPolicy(_Strict):
    ack_within: timedelta | Literal["next_business_day"]

    @field_validator("ack_within", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if value == "next_business_day":
            return value
        return _duration(value)


DEFAULT_SEVERITIES: dict[Severity, SeverityPolicy] = {
    Severity.P1: SeverityPolicy(ack_within=timedelta(minutes=15)),
    Severity.P2: SeverityPolicy(ack_within=timedelta(hours=1)),
    Severity.P3: SeverityPolicy(ack_within=timedelta(hours=4)),
    Severity.P4: SeverityPolicy(ack_within="next_business_day"),
}


class Escalation(_Strict):
    repeat_every: timedelta = timedelta(minutes=10)
    poll_interval: timedelta = timedelta(seconds=1)
    claim_lease: timedelta = timedelta(seconds=60)
    retry_failed_page_after: timedelta = timedelta(seconds=30)

    @field_validator("repeat_every", "poll_interval", "claim_lease", "retry_failed_page_after", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> timedelta:
        return _duration(value)


class OnCall(_Strict):
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


class Permissions(_Strict):
    responders: list[UserOrGroupId] = Field(default_factory=list)
    operators: list[UserOrGroupId] = Field(default_factory=list)


class Digest(_Strict):
    cron: str = "0 8 * * 1-5"
    timezone: TimeZoneName = "UTC"
    check_timeout: timedelta = timedelta(seconds=20)

    @field_validator("check_timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> timedelta:
        return _duration(value)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            raise ValueError(f"{value!r} is not a 5-field cron expression (minute hour day month weekday)")
        return value


class Cluster(_Strict):
    name: str
    context: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not DNS1123_LABEL.match(value):
            raise ValueError(f"{value!r} is not a valid cluster name (lowercase letters, digits and '-')")
        return value


class Kubernetes(_Strict):
    clusters: list[Cluster] = Field(default_factory=list)
    namespaces: list[str] = Field(default_factory=list, description="runbooks may act only here; empty = any")
    rollout_timeout: timedelta = timedelta(minutes=5)

    @field_validator("namespaces")
    @classmethod
    def _namespaces(cls, value: list[str]) -> list[str]:
        for name in value:
            if not DNS1123_LABEL.match(name):
                raise ValueError(f"{name!r} is not a namespace name")
        return value

    @field_validator("rollout_timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> timedelta:
        return _duration(value)


class IncidentChannels(_Strict):
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


class Updates(_Strict):
    remind_after: timedelta = timedelta(minutes=30)
    remind_severities: list[Severity] = Field(default_factory=lambda: [Severity.P1, Severity.P2])

    @field_validator("remind_after", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> timedelta:
        return _duration(value)


class Prometheus(_Strict):
    """Optional: the digest's key-metrics section. Absent = the section is omitted."""

    url: str
    error_target: float = Field(default=0.01, gt=0, lt=1)
    queries: dict[str, str] = Field(default_factory=dict, description="overrides of the default PromQL, by name")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("queries")
    @classmethod
    def _queries(cls, value: dict[str, str]) -> dict[str, str]:
        from runbooks.metrics import DEFAULT_QUERIES  # noqa: PLC0415 - settings stay importable without runbooks

        unknown = sorted(set(value) - set(DEFAULT_QUERIES))
        if unknown:
            raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(DEFAULT_QUERIES)}")
        return value


class BotConfig(_Strict):
    """The YAML config file (``CHATOPS_CONFIG``). Unknown keys are rejected to catch typos."""

    channels: Channels
    incident_channels: IncidentChannels = IncidentChannels()
    updates: Updates = Updates()
    severities: dict[Severity, SeverityPolicy] = Field(default_factory=dict)
    escalation: Escalation = Escalation()
    oncall: OnCall = OnCall()
    permissions: Permissions = Permissions()
    digest: Digest = Digest()
    kubernetes: Kubernetes = Kubernetes()
    prometheus: Prometheus | None = None

    @model_validator(mode="after")
    def _fill_severities(self) -> BotConfig:
        merged = {**DEFAULT_SEVERITIES, **self.severities}
        object.__setattr__(self, "severities", dict(sorted(merged.items())))
        return self


class Environment(BaseSettings):
    """Process environment (and an optional ``.env`` file). Secrets live only here."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    redis_url: str | None = None
    chatops_config: Path = Path("chatops.yaml")
    chatops_data_dir: Path = Path(".chatops")
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "text"

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _case(cls, value: Any, info: Any) -> Any:
        if isinstance(value, str):
            return value.upper() if info.field_name == "log_level" else value.lower()
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and not re.match(r"^(rediss?|unix)://", value):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb- (OAuth & Permissions page)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp- (Basic Information page)")
        return value

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def secrets(self) -> list[str]:
        """Every secret value, for the log redaction filter."""
        values = [self.slack_bot_token, self.slack_signing_secret, self.slack_app_token]
        out = [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
        if self.redis_url and "@" in self.redis_url:
            out.append(self.redis_url.split("@", 1)[0].rsplit(":", 1)[-1])
        return out


class Settings(BaseModel):
    """Everything the bot needs to run: the environment plus the parsed config file."""

    model_config = ConfigDict(frozen=True)

    env: Environment
    config: BotConfig


class SettingsError(Exception):
    """Every problem found while loading settings, each a readable line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _describe(error: ValidationError, prefix: str) -> list[str]:
    lines = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"] if p not in ("function-after",))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling against docs/configuration.md)"
        elif item["type"] == "missing":
            message = "is required"
        lines.append(f"{prefix}{where}: {message}" if where else f"{prefix}{message}")
    return lines


def load_config_file(path: Path) -> BotConfig:
    """Read and validate the YAML config; raise SettingsError listing every problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(
            [f"config file {path} not found: set CHATOPS_CONFIG or copy chatops.example.yaml to chatops.yaml"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError([f"config file {path} cannot be read: {exc}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise SettingsError([f"config file {path} is not valid YAML{where}"]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SettingsError([f"config file {path} must be a mapping of settings at the top level"])
    try:
        return BotConfig.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, f"{path}: ")) from None


def load_environment() -> Environment:
    try:
        return Environment()
    except ValidationError as exc:
        problems = []
        for item in exc.errors():
            name = str(item["loc"][0]).upper() if item["loc"] else "environment"
            problems.append(f"{name}: {item['msg'].removeprefix('Value error, ')}")
        raise SettingsError(problems) from None


def load_settings(*, require_slack: bool = True) -> Settings:
    """Load the environment and the config file, collecting every problem from both."""
    problems: list[str] = []
    env: Environment | None = None
    config: BotConfig | None = None
    try:
        env = load_environment()
    except SettingsError as exc:
        problems.extend(exc.problems)
    config_path = env.chatops_config if env is not None else Path(os.environ.get("CHATOPS_CONFIG", "chatops.yaml"))
    if env is not None and require_slack:
        if env.slack_bot_token is None:
            problems.append("SLACK_BOT_TOKEN: is required (the xoxb- token from OAuth & Permissions)")
        if env.slack_signing_secret is None and not env.socket_mode:
            problems.append("SLACK_SIGNING_SECRET: is required in HTTP mode (from the app's Basic Information page)")
    try:
        config = load_config_file(config_path)
    except SettingsError as exc:
        problems.extend(exc.problems)
    if problems or env is None or config is None:
        raise SettingsError(problems)
    return Settings(env=env, config=config)
