from __future__ import annotations

import pytest

from runbooks.kube.rollout import History, Revision, RollbackRefused, clean_template, merge_patch, plan
from tests.support.runbook_seed import template


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
