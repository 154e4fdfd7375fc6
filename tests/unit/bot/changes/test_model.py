"""An incident's scope and its changes ranked most suspicious first; the feed's lines (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.changes.model import Scope, pod_workload, ranked, scope_of
from bot.changes.render import handoff_lines, line
from bot.core.severity import Severity
from bot.incidents.model import AlertOrigin, Incident
from runbooks.kube.history.model import Change, Feed, Kind

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def change(minutes: float, kind: Kind, namespace: str | None, name: str, workload: str | None = None) -> Change:
    return Change(at=T0 + timedelta(minutes=minutes), cluster="prod", kind=kind, namespace=namespace, name=name,
                  workload=workload, summary="x")  # fmt: skip


def incident(service: str | None = None, labels: dict[str, str] | None = None) -> Incident:
    alert = AlertOrigin(receiver="chatops", group="g", labels=labels) if labels is not None else None
    return Incident(number=42, title="t", severity=Severity.P1, opened_by="U1", opened_at=T0, respond_by=T0,
                    service=service, alert=alert)  # fmt: skip


@pytest.mark.parametrize(
    ("pod", "workload"),
    [
        ("api-gateway-7d9f8b6c5-x2k4p", "api-gateway"),
        ("postgres-0", "postgres"),
        ("node-exporter-8hq2k", "node-exporter"),
    ],
)
def test_a_pod_names_its_workload(pod: str, workload: str) -> None:
    assert pod_workload(pod) == workload


def test_the_scope_comes_from_the_service_else_the_labels_and_bad_names_are_not_followed() -> None:
    assert scope_of(incident("production/api"), None, []) == Scope(None, "production", "any/api")
    labels = {"namespace": "production", "deployment": "api", "cluster": "prod"}
    assert scope_of(incident(labels=labels), None, ["prod"]) == Scope("prod", "production", "deployment/api")
    assert scope_of(incident(labels={"namespace": "production", "cluster": "other"}), None, ["prod"]).cluster is None
    assert scope_of(incident(labels={"namespace": "Bad_NS"}), None, []) == Scope()
    hostile = {"namespace": "production", "deployment": "x/../../etc"}
    assert scope_of(incident(labels=hostile), None, []) == Scope(None, "production", None)


def test_the_workload_before_its_namespace_before_the_rest_each_nearest_the_start_first() -> None:
    scope = Scope(None, "production", "any/api")
    yesterday_config = change(-24 * 60, Kind.CONFIG, "production", "api-config")
    rollout = change(-10, Kind.ROLLOUT, "production", "api", "deployment/api")
    old_rollout = change(-100, Kind.ROLLOUT, "production", "api", "deployment/api")
    cordoned = change(-2, Kind.NODE_CORDONED, None, "ip-10-0-3-7")
    neighbour = change(-5, Kind.ROLLOUT, "production", "web", "deployment/web")
    order = ranked([yesterday_config, cordoned, old_rollout, neighbour, rollout], scope, T0)
    assert order == [rollout, old_rollout, neighbour, yesterday_config, cordoned]


def test_a_line_has_a_date_token_the_place_and_how_long_before_the_incident() -> None:
    rollout = change(-12, Kind.ROLLOUT, "production", "api", "deployment/api").model_copy(
        update={"summary": "rollout 2.4.1 → 2.4.2 (rev 7)", "by": "argocd"}
    )
    text = line(rollout, start=T0, ref="INC-42")
    assert text.startswith(f"<!date^{int(rollout.at.timestamp())}^")
    assert "*production/api* rollout 2.4.1 → 2.4.2 (rev 7) by argocd — 12m before INC-42" in text
    assert "<@" not in line(rollout.model_copy(update={"by": "U0ABCDEF"}))  # a manager is never a mention
    assert "by <@U0OPS>" in line(rollout.model_copy(update={"kind": Kind.BOT, "by": "U0OPS"}))
    assert "&lt;script&gt;" in line(rollout.model_copy(update={"summary": "<script>"}))


def test_the_handoff_names_rollouts_counts_config_and_nodes_per_cluster() -> None:
    feed = Feed(cluster="prod", since=T0, until=T0, changes=[
        change(-1, Kind.ROLLOUT, "production", "api", "deployment/api").model_copy(update={"failed": True}),
        change(-2, Kind.CONFIG, "production", "a"), change(-3, Kind.SECRET, "production", "b"),
        change(-4, Kind.CONFIG, "billing", "c"), change(-5, Kind.NODE_JOINED, None, "n1"),
    ], problems=["HPAs: forbidden"])  # fmt: skip
    lines = handoff_lines([feed])
    assert lines[0] == "*prod*: 1 rollout(s) · config production 2, billing 1 · nodes +1 −0"
    assert "*production/api*" in lines[1] and "⚠️ failed" in lines[1]
    assert "HPAs: forbidden" in lines[-1]
