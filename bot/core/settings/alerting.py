"""Config sections of alerts and the public status page (pure): routes with Alertmanager's matchers, storm control,
Statuspage."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from bot.core.settings.types import ChannelId, Duration, HttpUrl, Strict, http_url
from bot.core.severity import Severity

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


def _missing_after(value: timedelta) -> timedelta:
    if not timedelta(minutes=1) <= value <= timedelta(days=31):
        raise ValueError("between 1m and 31d")
    return value


class AlertHeartbeat(Strict):
    """Alertmanager's always-firing alert routed to the bot: a heartbeat of the alerting pipeline, not an incident.
    None arriving for ``missing_after`` (from the last, or from the bot's start) opens one incident."""

    alertname: str = Field(default="Watchdog", min_length=1, max_length=200)
    missing_after: Duration = timedelta(minutes=10)
    severity: Severity = Severity.P2

    _check = field_validator("missing_after")(classmethod(lambda cls, v: _missing_after(v)))


HEARTBEAT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class Heartbeat(Strict):
    """A job that must check in (``POST /heartbeat/<name>``): a missed check-in opens one incident naming it."""

    missing_after: Duration
    severity: Severity = Severity.P3

    _check = field_validator("missing_after")(classmethod(lambda cls, v: _missing_after(v)))


def heartbeat_names(value: dict[str, Heartbeat]) -> dict[str, Heartbeat]:
    bad = [name for name in value if not HEARTBEAT_NAME.match(name)]
    if bad:
        raise ValueError(f"{', '.join(map(repr, bad))}: a heartbeat's name is lowercase letters, digits and '-'")
    return value


class Alerts(Strict):
    routes: list[AlertRoute] = Field(default_factory=list)
    default: AlertDefault = AlertDefault()
    min_severity: Severity = Severity.P3  # lower alerts post a notice and open nothing
    auto_mitigate: bool = False  # a group whose alerts all resolved moves its incident to mitigated
    max_new_per_minute: int = Field(default=5, ge=1, le=1000)
    # What tells two senders of one groupKey apart: Alertmanager's externalURL (two clusters' Alertmanagers), the
    # receiver only (an HA pair whose peers each have their own --web.external-url), or nothing.
    sender_key: Literal["external_url", "receiver", "none"] = "external_url"
    alertmanager_url: str | None = None  # /alerts, the hand-off and the digest read what is firing here
    heartbeat: AlertHeartbeat | None = None  # Alertmanager's Watchdog: a dead man's switch on alerting

    @field_validator("alertmanager_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if not value:
            return value
        try:
            return http_url(value).rstrip("/")
        except ValueError as exc:  # credentials: ALERTMANAGER_AUTH in the environment carries them
            hint = ": set ALERTMANAGER_AUTH instead" if "credentials" in str(exc) else ""
            raise ValueError(f"{exc}{hint}") from None


class Statuspage(Strict):
    """Atlassian Statuspage (the API key is STATUSPAGE_API_KEY in the environment, never here)."""

    page_id: str = Field(pattern=r"^[a-z0-9]{4,32}$")
    api_url: HttpUrl = "https://api.statuspage.io/v1"
    min_severity: Severity = Severity.P2  # incidents at or above it get "Post to status page"
    components: dict[str, str] = Field(default_factory=dict)  # service → component id
    timeout: Duration = timedelta(seconds=10)  # one call's answer; a create not answered in time is looked up

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= value <= timedelta(minutes=1):
            raise ValueError("between 1s and 1m")
        return value

    @field_validator("api_url")
    @classmethod
    def _api(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("components")
    @classmethod
    def _components(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [c for c in value.values() if not re.match(r"^[a-z0-9]{4,32}$", c)]
        if bad:
            raise ValueError(f"not Statuspage component ids: {', '.join(bad)}")
        return value
