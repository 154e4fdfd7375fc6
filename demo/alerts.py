"""The demo's Alertmanager: two firing groups, served at ``/api/v2/alerts`` as Alertmanager serves them, and each as
the webhook Alertmanager would send for it (``/-/demo/webhook/<n>``), which the shell's ``fire n`` delivers."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from demo.standin import Reply, Request
from demo.statuspage import AlertmanagerStandIn

EXTERNAL_URL = "http://alertmanager.demo:9093"
GROUPS = [
    (
        "KubePodCrashLooping",
        "critical",
        {"namespace": "production", "pod": "payments-pay1x7f-b0q", "container": "payments", "deployment": "payments"},
        "Pod production/payments-pay1x7f-b0q is crash looping",
    ),
    (
        "KubeDeploymentReplicasMismatch",
        "warning",
        {"namespace": "production", "deployment": "api-gateway"},
        "Deployment production/api-gateway answers 5xx since its rollout",
    ),
]


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def alert(name: str, severity: str, labels: dict[str, str], summary: str, now: datetime) -> dict[str, Any]:
    return {
        "labels": {"alertname": name, "severity": severity, "cluster": "demo", **labels},
        "annotations": {"summary": summary, "runbook_url": "https://runbooks.demo.example.com/" + name.lower()},
        "startsAt": _time(now - timedelta(minutes=6)),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.demo:9090/graph?g0.expr={name}",
        "fingerprint": hashlib.sha256(f"{name}/{labels}".encode()).hexdigest()[:16],
    }


def webhook(index: int, now: datetime) -> dict[str, Any]:
    """Alertmanager's webhook (version 4) for the ``index``-th group."""
    name, severity, labels, summary = GROUPS[index]
    one = alert(name, severity, labels, summary, now)
    common = {"alertname": name, "severity": severity, "namespace": labels["namespace"]}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "chatops-bot",
        "groupLabels": {"alertname": name},
        "commonLabels": common,
        "commonAnnotations": {"summary": summary},
        "externalURL": EXTERNAL_URL,
        "alerts": [{"status": "firing", **one}],
    }


class DemoAlertmanager(AlertmanagerStandIn):
    def __init__(self) -> None:
        super().__init__()
        now = datetime.now(UTC)
        self.alerts = [
            {
                **alert(*group, now),
                "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
                "receivers": [{"name": "chatops-bot"}],
                "updatedAt": _time(now),
            }
            for group in GROUPS
        ]

    def handle(self, request: Request) -> Reply:
        if request.method == "GET" and request.path.startswith("/-/demo/webhook/"):
            try:
                index = int(request.path.rsplit("/", 1)[1]) - 1
                if not 0 <= index < len(GROUPS):
                    raise ValueError
            except ValueError:
                return Reply(404, {"error": f"the demo has groups 1 to {len(GROUPS)}"})
            return Reply(200, webhook(index, datetime.now(UTC)))
        return super().handle(request)
