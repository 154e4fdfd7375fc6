"""Config sections of alerts and the public status page (pure): routes with Alertmanager's matchers, storm control,
enrichment (the diagnoses an alert runs), Statuspage."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

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
    team: str | None = None  # whose incidents they are (a name of ``teams``), before what the teams own

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


# What an enrichment may run, with the options (``args``) each takes besides the target: the runbooks that diagnose
# (their params, ``runbooks/books/``; a unit test keeps this in step with the registry) and the change feed.
ENRICH_RUNS: dict[str, tuple[str, ...]] = {"crashloop": (), "high-error-rate": ("pattern", "deps"), "changes": ()}
_OPTION = re.compile(r"^--([a-z_]+)=(.*)$")


class EnrichRule(Strict):
    """Alerts whose labels match every ``match`` entry (a plain value equals, ``~regex`` matches it anchored) run
    ``run`` on the target their labels name (``namespace`` with ``pod``, ``deployment``, ``statefulset`` or
    ``daemonset``; ``cluster``)."""

    match: dict[str, str] = Field(min_length=1)
    run: str
    args: str = Field(default="", max_length=300)  # options of the runbook, e.g. "--pattern=ERROR"

    @property
    def matchers(self) -> list[str]:
        """The match entries as Alertmanager matchers (``k=v``, ``k=~regex``)."""
        return [f"{k}=~{v[1:]}" if v.startswith("~") else f'{k}="{v}"' for k, v in self.match.items()]

    @property
    def options(self) -> list[str]:
        return self.args.split()

    @field_validator("match")
    @classmethod
    def _match(cls, value: dict[str, str]) -> dict[str, str]:
        for name, wanted in value.items():
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
                raise ValueError(f"{name!r} is not a label name")
            parse_matcher(f"{name}=~{wanted[1:]}" if wanted.startswith("~") else f"{name}=x")
        return value

    @model_validator(mode="after")
    def _run(self) -> EnrichRule:
        if self.run not in ENRICH_RUNS:
            raise ValueError(f"run {self.run!r} is not one of {', '.join(ENRICH_RUNS)}")
        for word in self.options:
            found = _OPTION.match(word)
            if found is None or found.group(1) not in ENRICH_RUNS[self.run]:
                takes = ", ".join(f"--{o}=…" for o in ENRICH_RUNS[self.run]) or "no options"
                raise ValueError(f"args {word[:40]!r}: {self.run} takes {takes}")
        return self


# kube-prometheus-stack's alert names (``alerts.enrich_defaults``), after the rules of ``alerts.enrich``.
DEFAULT_ENRICH = (
    EnrichRule(match={"alertname": "KubePodCrashLooping"}, run="crashloop"),
    EnrichRule(match={"alertname": "KubeContainerWaiting"}, run="crashloop"),
    EnrichRule(match={"alertname": "KubePodNotReady"}, run="crashloop"),
    EnrichRule(match={"alertname": "KubeDeploymentReplicasMismatch"}, run="changes"),
)


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
    enrich: list[EnrichRule] = Field(default_factory=list, max_length=100)  # first match wins
    enrich_defaults: bool = False  # kube-prometheus-stack's alerts (DEFAULT_ENRICH) after the rules of ``enrich``
    enrich_timeout: Duration = timedelta(seconds=20)  # one enrichment's answer; past it, one line says so

    @property
    def enrichments(self) -> list[EnrichRule]:
        return [*self.enrich, *(DEFAULT_ENRICH if self.enrich_defaults else ())]

    @field_validator("enrich_timeout")
    @classmethod
    def _enrich_timeout(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= value <= timedelta(minutes=5):
            raise ValueError("between 1s and 5m")
        return value

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
