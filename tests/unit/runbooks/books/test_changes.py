from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runbooks.books import restart, scale
from runbooks.changes import parse
from runbooks.errors import Refused
from runbooks.kube.deployment import DeploymentState


def _state(replicas: int = 3, paused: bool = False) -> DeploymentState:
    return DeploymentState(
        namespace="ns",
        deployment="app",
        replicas=replicas,
        ready=replicas,
        updated=replicas,
        available=replicas,
        images=["app:3"],
        paused=paused,
        restarted_at=None,
        autoscaler=None,
        resource_version="41",
    )


def test_restart_stamps_the_template_and_guards_the_version() -> None:
    patch = restart.plan(_state(), datetime(2026, 11, 26, 9, 30, tzinfo=UTC))
    assert patch == {
        "metadata": {"resourceVersion": "41"},
        "spec": {
            "template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-26T09:30:00Z"}}}
        },
    }


@pytest.mark.parametrize(
    ("state", "reason"), [(_state(paused=True), "is paused"), (_state(replicas=0), "scaled to 0 replicas")]
)
def test_restart_refusals(state: DeploymentState, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        restart.plan(state, datetime.now(UTC))


def test_scale_plan_and_refusals() -> None:
    assert scale.plan(_state(3), 0) == {"metadata": {"resourceVersion": "41"}, "spec": {"replicas": 0}}
    with pytest.raises(Refused, match="already has 3 replica"):
        scale.plan(_state(3), 3)
    with pytest.raises(Refused, match="outside 0–500"):
        scale.plan(_state(3), 501)


def test_stored_offers_round_trip_and_junk_is_refused() -> None:
    offer = scale.Scale(namespace="ns", deployment="app", replicas=4)
    stored = {**offer.model_dump(), "incident": 7, "offered_to": "U1"}
    assert parse(stored) == offer
    for junk in (None, {}, {"kind": "delete", "namespace": "ns", "deployment": "app"}, {"kind": "scale"}):
        assert parse(junk) is None
