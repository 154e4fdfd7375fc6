"""Whether an EKS cluster is ready for a one-minor upgrade (pure)."""

from __future__ import annotations

from runbooks.aws.eks import Addon, EksControlPlane, Insight, NodeGroup
from runbooks.checklist.eks import minor, next_version, readiness, target_refusal

PLANE = EksControlPlane(name="eks", version="1.29", status="ACTIVE", platform_version="eks.7")


def check(**kwargs: object) -> list[str]:
    args: dict[str, object] = {
        "groups": [NodeGroup(name="general", version="1.29", status="ACTIVE")],
        "kubelets": {"n1": "v1.29.3-eks-1"},
        "addons": [Addon(name="vpc-cni", version="v1.16", status="ACTIVE", compatible=["v1.18", "v1.16"])],
        "insights": [],
    }
    args.update(kwargs)
    return readiness(PLANE, str(args.pop("target", "1.30")), **args).blockers  # type: ignore[arg-type]


def test_versions() -> None:
    assert [minor(v) for v in ("1.30", "v1.30.4-eks-a737599", "2.0", "x")] == [30, 30, None, None]
    assert next_version("1.29") == "1.30"
    assert target_refusal("1.29", "1.30") is None
    assert "skips a minor" in str(target_refusal("1.29", "1.31"))
    assert "no upgrade" in str(target_refusal("1.29", "1.29"))


def test_a_healthy_cluster_is_ready() -> None:
    assert check() == []


def test_each_blocker_is_named() -> None:
    assert check(groups=[NodeGroup(name="old", version="1.28", status="ACTIVE")]) == [
        "node group old is at 1.28, not the control plane's 1.29: upgrade it to match first"
    ]
    assert check(kubelets={"n1": "v1.26.1", "n2": "v1.27.0"}) == [
        "kubelets more than 3 minors behind 1.30: n1 (v1.26.1)"
    ]
    blocked = check(addons=[Addon(name="cni", version="v1.12", status="ACTIVE", compatible=["v1.18"], default="v1.18")])
    assert blocked == ["add-on cni v1.12 is not compatible with 1.30; update it to v1.18"]
    assert check(insights=[Insight(name="Deprecated APIs", status="ERROR", reason="v1beta2 in use")]) == [
        "insight Deprecated APIs: v1beta2 in use"
    ]
    warned = readiness(
        PLANE, "1.30", groups=[], kubelets={}, addons=[], insights=[Insight(name="Kubelet skew", status="WARNING")]
    )
    assert warned.ready and warned.warnings == ["insight Kubelet skew: WARNING"]
    assert (
        "the cluster is UPDATING"
        in readiness(
            PLANE.model_copy(update={"status": "UPDATING"}), "1.30", groups=[], kubelets={}, addons=[], insights=[]
        ).verdict
    )
