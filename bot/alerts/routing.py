"""Which severity and channel an alert group gets (``alerts.routes``, first match wins, else ``alerts.default``,
else the ``severity`` label), and the incident's title and description (pure). Regex matchers are anchored, as in
Alertmanager, and run on RE2 (label values come from outside)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import re2

from bot.alerts.payload import Alert, Payload
from bot.core.settings.config import AlertRoute, Alerts, Team, parse_matcher
from bot.core.severity import Severity

SEVERITY_LABEL = {
    "critical": Severity.P1,
    "page": Severity.P1,
    "high": Severity.P2,
    "error": Severity.P2,
    "major": Severity.P2,
    "warning": Severity.P3,
    "warn": Severity.P3,
    "info": Severity.P4,
    "low": Severity.P4,
}
SEVERITY_WORD = {Severity.P1: "critical", Severity.P2: "high", Severity.P3: "warning", Severity.P4: "info"}
LISTED = 5  # alerts named in a line, then "and N more"
TITLE_MAX = 150
DESCRIPTION_MAX = 2000


@dataclass(frozen=True)
class Route:
    severity: Severity
    channel: str | None


@cache
def _regex(pattern: str) -> re2._Regexp:
    options = re2.Options()
    options.log_errors = False
    return re2.compile(f"^(?:{pattern})$", options=options)


def matches(matcher: str, labels: Mapping[str, str]) -> bool:
    name, op, value = parse_matcher(matcher)
    actual = labels.get(name, "")
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    found = _regex(value).match(actual) is not None
    return found if op == "=~" else not found


def by_label(labels: Mapping[str, str]) -> Severity:
    return SEVERITY_LABEL.get(labels.get("severity", "").strip().lower(), Severity.P3)


def severity(labels: Mapping[str, str], config: Alerts) -> Severity:
    """The severity one alert would have by itself (its own labels through the routes)."""
    chosen = next((r for r in config.routes if all(matches(m, labels) for m in r.match)), None)
    if chosen is not None:
        return chosen.severity or by_label(labels)
    return config.default.severity or by_label(labels)


def group_labels(payload: Payload) -> dict[str, str]:
    """The group's labels: what every alert of it shares, else the first alert's."""
    return payload.commonLabels or (payload.alerts[0].labels if payload.alerts else {})


def route(payload: Payload, config: Alerts) -> Route:
    """The group's route, from its labels (``group_labels``)."""
    labels = group_labels(payload)
    chosen: AlertRoute | None = next((r for r in config.routes if all(matches(m, labels) for m in r.match)), None)
    if chosen is not None:
        return Route(chosen.severity or by_label(labels), chosen.channel)
    return Route(config.default.severity or by_label(labels), config.default.channel)


NAMESPACE_LABELS = ("namespace", "exported_namespace")
# The labels naming an RDS instance: prometheus/cloudwatch_exporter's ``dbinstance_identifier``, YACE's
# ``dimension_DBInstanceIdentifier`` (and its ``name``, the instance's ARN), and the short ones people write.
RDS_LABELS = ("dbinstance_identifier", "dimension_DBInstanceIdentifier", "db_instance_identifier", "rds_instance",
              "dbinstance", "rds")  # fmt: skip
_RDS_ARN = re.compile(r"^arn:aws[a-z-]*:rds:[^:]*:[0-9]*:db:([A-Za-z0-9-]{1,63})$")


def rds_instances(labels: Mapping[str, str]) -> set[str]:
    """The RDS instances an alert's labels name (an ARN in any label counts as its instance)."""
    found = {labels[k] for k in RDS_LABELS if labels.get(k)}
    return found | {m.group(1) for v in labels.values() if (m := _RDS_ARN.match(v))}


def team_for(labels: Mapping[str, str], config: Alerts, teams: Mapping[str, Team]) -> str | None:
    """The team an alert group belongs to: its route's ``team``, else the first team owning one of its labels, else
    the first owning its namespace, else its RDS instance; None: the default team's."""
    chosen = next((r for r in config.routes if all(matches(m, labels) for m in r.match)), None)
    if chosen is not None and chosen.team is not None:
        return chosen.team
    for name, team in teams.items():
        if any(labels.get(key) == value for key, value in team.owns.labels.items()):
            return name
    namespaces = {labels[k] for k in NAMESPACE_LABELS if labels.get(k)}
    for name, team in teams.items():
        if namespaces & set(team.owns.namespaces):
            return name
    instances = rds_instances(labels)
    for name, team in teams.items():
        if instances & set(team.owns.rds):
            return name
    return None


def title(payload: Payload) -> str:
    summary = payload.commonAnnotations.get("summary") or (
        payload.alerts[0].annotations.get("summary") if len(payload.alerts) == 1 else None
    )
    if summary:
        text = summary
    else:
        name = payload.commonLabels.get("alertname") or (payload.alerts[0].name if payload.alerts else "alert")
        extra = [f"{k}={v}" for k, v in sorted(payload.groupLabels.items()) if k != "alertname"]
        text = name + (f" ({', '.join(extra)})" if extra else "")
    return _clean(text, TITLE_MAX) or "Alert"


def description(payload: Payload) -> str:
    text = payload.commonAnnotations.get("description") or (
        payload.alerts[0].annotations.get("description", "") if len(payload.alerts) == 1 else ""
    )
    return _clean(text, DESCRIPTION_MAX, multiline=True)


def runbook_url(payload: Payload) -> str | None:
    found = payload.commonAnnotations.get("runbook_url") or next(
        (a.annotations["runbook_url"] for a in payload.alerts if a.annotations.get("runbook_url")), None
    )
    return found or None


def _clean(text: str, limit: int, *, multiline: bool = False) -> str:
    """Control and format characters out (alert text is outside input), clipped."""
    kept = "".join(
        c for c in text if (c.isprintable() or (multiline and c == "\n")) and c not in "\u200b\u200e\u200f\u202e"
    )
    return kept.strip()[:limit]


def alert_line(labels: Mapping[str, str]) -> str:
    """One alert as people name it: its alertname and the labels that tell it apart."""
    name = labels.get("alertname", "alert")
    shown = [f"{k}={v}" for k, v in sorted(labels.items()) if k not in ("alertname", "severity")][:4]
    return name + (f" ({', '.join(shown)})" if shown else "")


def firing_text(payload: Payload, *, listed: bool = False) -> str:
    """How many alerts fire, with those Alertmanager left out of the payload (its ``max_alerts``), and with
    ``listed`` the first of them by name."""
    shown = len(payload.firing)
    total = shown + payload.truncatedAlerts
    word = "alert" if total == 1 else "alerts"
    cut = f" ({payload.truncatedAlerts} not sent by Alertmanager: its max_alerts)" if payload.truncatedAlerts else ""
    if not listed:
        return f"{total} {word} firing{cut}"
    left = total - min(shown, LISTED)
    more = f" and {left} more" if left > 0 else ""
    return f"{total} {word} firing{cut}: {', '.join(alert_line(a.labels) for a in payload.firing[:LISTED])}{more}"


def count(alerts: list[Alert]) -> str:
    return f"{len(alerts)} alert" if len(alerts) == 1 else f"{len(alerts)} alerts"


def names(alerts: list[Alert]) -> str:
    names = ", ".join(alert_line(a.labels) for a in alerts[:LISTED])
    return names + (f" and {len(alerts) - LISTED} more" if len(alerts) > LISTED else "")
