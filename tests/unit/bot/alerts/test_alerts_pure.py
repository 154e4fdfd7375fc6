"""The webhook payload, routing and the firing list (pure)."""

from __future__ import annotations

import json

import pytest

from bot.alerts import routing
from bot.alerts.firing import grouped
from bot.alerts.payload import BadPayload, parse
from bot.core.settings.config import AlertRoute, Alerts, parse_matcher
from bot.core.severity import Severity

GRAFANA = {  # Grafana's webhook contact point: Alertmanager's shape plus extras
    "receiver": "chatops",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighCPU", "grafana_folder": "infra", "severity": "warning"},
            "annotations": {"summary": "CPU above 90%"},
            "startsAt": "2026-11-27T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.example.com/alerting/grafana/abc/view",
            "fingerprint": "4f5c6d7e8f9a0b1c",
            "silenceURL": "https://grafana.example.com/alerting/silence/new",
            "values": {"B": 93.5},
        }
    ],
    "groupLabels": {"alertname": "HighCPU"},
    "commonLabels": {"alertname": "HighCPU", "severity": "warning"},
    "commonAnnotations": {},
    "externalURL": "https://grafana.example.com/",
    "version": "1",
    "groupKey": '{}:{alertname="HighCPU"}',
    "truncatedAlerts": 0,
    "title": "[FIRING:1] HighCPU",
    "state": "alerting",
    "message": "**Firing**",
}


def test_grafana_extras_are_accepted() -> None:
    payload = parse(json.dumps(GRAFANA).encode())
    assert payload.firing[0].key == "4f5c6d7e8f9a0b1c" and payload.source == "chatops"
    assert routing.title(payload) == "CPU above 90%"
    assert routing.route(payload, Alerts()).severity is Severity.P3


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"{", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"status": "firing"}', "no 'alerts'"),
        (b'{"status": "firing", "alerts": [{"status": "weird"}]}', "'alerts.0.status'"),
        (b'{"status": "firing", "alerts": "no"}', "'alerts'"),
    ],
)
def test_bad_payloads_say_why(body: bytes, said: str) -> None:
    with pytest.raises(BadPayload, match=said):
        parse(body)


def test_the_group_id_is_a_hash_of_the_group_key() -> None:
    one = parse(json.dumps(GRAFANA).encode())
    other = parse(json.dumps({**GRAFANA, "groupKey": '{}:{alertname="Other"}'}).encode())
    assert len(one.group) == 24 and one.group != other.group and "alertname" not in one.group


def test_severity_label_mapping_and_routes() -> None:
    def payload(**labels: str) -> object:
        return parse(json.dumps({**GRAFANA, "commonLabels": labels}).encode())

    assert routing.route(payload(severity="critical"), Alerts()).severity is Severity.P1  # type: ignore[arg-type]
    assert routing.route(payload(severity="error"), Alerts()).severity is Severity.P2  # type: ignore[arg-type]
    assert routing.route(payload(severity="info"), Alerts()).severity is Severity.P4  # type: ignore[arg-type]
    assert routing.route(payload(severity="banana"), Alerts()).severity is Severity.P3  # type: ignore[arg-type]
    config = Alerts(
        routes=[
            AlertRoute(match=["team=~payments|checkout", "env!=staging"], severity=Severity.P1, channel="C0PAY"),
            AlertRoute(match=["team=~pay.*"], channel="C0OTHER"),
        ]
    )
    first = routing.route(payload(team="checkout", env="prod", severity="warning"), config)  # type: ignore[arg-type]
    assert (first.severity, first.channel) == (Severity.P1, "C0PAY")
    staging = routing.route(payload(team="payments", env="staging", severity="warning"), config)  # type: ignore[arg-type]
    assert (staging.severity, staging.channel) == (Severity.P3, "C0OTHER")  # the second route; the label's severity
    # Regexes are anchored, as in Alertmanager: "payments-eu" does not match "payments|checkout".
    assert not routing.matches("team=~payments|checkout", {"team": "payments-eu"})
    assert routing.matches("team!~pay.*", {"team": "search"})


def test_bad_matchers_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="not a label matcher"):
        parse_matcher("severity")
    with pytest.raises(ValueError, match="does not compile"):
        parse_matcher("team=~(payments")


def test_title_falls_back_to_the_alert_name_and_group_labels_and_control_characters_go() -> None:
    data = {**GRAFANA, "commonAnnotations": {}, "groupLabels": {"alertname": "HighCPU", "cluster": "eu-1"}}
    data["alerts"] = [*GRAFANA["alerts"], {**GRAFANA["alerts"][0], "fingerprint": "2"}]  # type: ignore[list-item]
    assert routing.title(parse(json.dumps(data).encode())) == "HighCPU (cluster=eu-1)"
    noisy = {**GRAFANA, "commonAnnotations": {"summary": "Disk\u202e full\x07 on db-1"}}
    assert routing.title(parse(json.dumps(noisy).encode())) == "Disk full on db-1"


def test_firing_alerts_grouped_most_severe_first() -> None:
    lines = grouped([
        {"labels": {"alertname": "PodRestarts", "severity": "warning", "namespace": "search"}},
        {"labels": {"alertname": "HighErrorRate", "severity": "critical", "namespace": "checkout"}},
        {"labels": {"alertname": "HighErrorRate", "severity": "critical", "namespace": "payments"}},
    ])  # fmt: skip
    assert lines == [
        "• *HighErrorRate* (critical): 2 firing — checkout, payments",
        "• *PodRestarts* (warning): 1 firing — search",
    ]
