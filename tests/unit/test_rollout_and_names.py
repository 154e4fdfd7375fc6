from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from runbooks import changes, names, restart, scale
from runbooks.deployment import ActionRefused, DeploymentState
from runbooks.rollout import History, Revision, RollbackRefused, clean_template, merge_patch, plan
from runbooks.workload import api_error, matches
from tests.support.runbook_seed import template

HOSTILE = [
    "--server=https://evil",
    "../etc",
    "$(reboot)",
    "a;b",
    "x" * 300,
    "prоd",
    "ＡＢＣ",
    "a b",
    "",
    "-lead",
    "trail-",
    "UPPER",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_names_are_refused(value: str) -> None:
    with pytest.raises(names.InvalidName):
        names.label(value, "namespace")
    with pytest.raises(names.InvalidName):
        names.subdomain(value, "deployment")


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_only_dns1123_names_pass(value: str) -> None:
    try:
        names.label(value, "namespace")
    except names.InvalidName as exc:
        assert "not a valid namespace name" in str(exc)
        return
    assert value.isascii() and value == value.lower() and len(value) <= 63 and " " not in value


def test_namespace_allow_list() -> None:
    assert names.namespace("production", ["production"]) == "production"
    with pytest.raises(names.InvalidName, match="not one the bot may act in"):
        names.namespace("kube-system", ["production"])


def _history(current: str, paused: bool = False) -> History:
    revisions = [
        Revision(
            number=n,
            replicaset=f"rs-{n}",
            images=[img],
            change_cause=None,
            created=None,
            template=template(img, f"h{n}"),
        )
        for n, img in ((3, "app:3"), (2, "app:2"))
    ]
    return History(
        namespace="ns",
        deployment="app",
        current=3,
        paused=paused,
        resource_version="9",
        template=template(current),
        revisions=revisions,
    )


def test_plan_patches_the_template_and_guards_the_version() -> None:
    target, patch = plan(_history("app:3"), 2)
    assert target.number == 2 and patch["metadata"]["resourceVersion"] == "9"
    assert patch["spec"]["template"]["spec"]["containers"][0]["image"] == "app:2"
    assert "pod-template-hash" not in str(patch)


@pytest.mark.parametrize(
    ("state", "revision", "reason"),
    [
        (_history("app:3"), 7, "revision 7 of ns/app is gone"),
        (_history("app:3", paused=True), 2, "paused"),
        (_history("app:2"), 2, "already runs revision 2"),
    ],
)
def test_plan_refusals(state: History, revision: int, reason: str) -> None:
    with pytest.raises(RollbackRefused, match=reason):
        plan(state, revision)


def test_merge_patch_removes_what_the_target_lacks() -> None:
    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": 2}, "e": [1]}) == {
        "a": None,
        "b": {"d": None},
        "e": [1],
    }
    assert clean_template(template("x", "h1"))["metadata"]["labels"] == {"app": "api-gateway"}


def test_selector_matching() -> None:
    assert matches({"app": "a", "tier": "web"}, "app=a,tier=web")
    assert not matches({"app": "b"}, "app=a")
    assert matches({"app": "a"}, "tier!=db")


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
    with pytest.raises(ActionRefused, match=reason):
        restart.plan(state, datetime.now(UTC))


def test_scale_plan_and_refusals() -> None:
    assert scale.plan(_state(3), 0) == {"metadata": {"resourceVersion": "41"}, "spec": {"replicas": 0}}
    with pytest.raises(ActionRefused, match="already has 3 replica"):
        scale.plan(_state(3), 3)
    with pytest.raises(ActionRefused, match="outside 0–500"):
        scale.plan(_state(3), 501)


def test_stored_offers_round_trip_and_junk_is_refused() -> None:
    offer = changes.Scale(namespace="ns", deployment="app", replicas=4)
    stored = {**offer.model_dump(), "incident": 7, "offered_to": "U1"}
    assert changes.CHANGE.validate_python(stored) == offer
    for junk in (None, {}, {"kind": "delete", "namespace": "ns", "deployment": "app"}, {"kind": "scale"}):
        with pytest.raises(ValidationError):
            changes.CHANGE.validate_python(junk)


def test_api_errors_read_as_sentences() -> None:
    assert "changed by someone else meanwhile" in api_error(ApiException(status=409), "deployment ns/app")
    assert "may not change deployment ns/app" in api_error(ApiException(status=403), "deployment ns/app", change=True)
