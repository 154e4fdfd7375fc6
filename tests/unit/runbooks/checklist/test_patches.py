"""The patch-currency rules (pure): release order, releases behind and since when, the parameters by AMI type, the
pools, add-ons and the end of standard support."""

from __future__ import annotations

from datetime import date, datetime

from runbooks.aws.eks import Addon, NodeGroup
from runbooks.aws.patches import Published, Support, parameter
from runbooks.checklist.patches import (
    PatchReport,
    addon_patch,
    group_patch,
    pools,
    release_key,
    support_line,
)

TODAY = date(2026, 12, 2)


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T00:00:00+00:00")


def test_parameters_follow_the_ami_type() -> None:
    eks = "/aws/service/eks/optimized-ami/1.30"
    assert parameter("AL2_x86_64", "1.30") == f"{eks}/amazon-linux-2/recommended/release_version"
    assert parameter("AL2_ARM_64", "1.30") == f"{eks}/amazon-linux-2-arm64/recommended/release_version"
    assert parameter("AL2_x86_64_GPU", "1.30") == f"{eks}/amazon-linux-2-gpu/recommended/release_version"
    assert parameter("AL2023_ARM_64_STANDARD", "1.30") == (
        f"{eks}/amazon-linux-2023/arm64/standard/recommended/release_version"
    )
    assert (
        parameter("BOTTLEROCKET_ARM_64", "1.30") == "/aws/service/bottlerocket/aws-k8s-1.30/arm64/latest/image_version"
    )
    assert parameter("CUSTOM", "1.30") is None
    assert parameter("AL2_x86_64", "1.30/../x") is None


def test_releases_are_ordered_by_date_then_version() -> None:
    assert release_key("1.30.4-20241109") < release_key("1.30.2-20241120")  # type: ignore[operator]
    assert release_key("1.20.3-5d9ac849") > release_key("1.19.9-aaaaaaaa")  # type: ignore[operator]
    assert release_key("latest") is None


def test_without_history_a_group_is_only_behind() -> None:
    group = NodeGroup(name="g", version="1.30", status="ACTIVE", release="1.30.4-20241109", ami_type="AL2_x86_64")
    found = group_patch(group, Published(parameter="p", latest="1.30.4-20241120"))
    assert found.out_of_date and found.behind is None
    assert found.line(TODAY) == "node group g (AL2_x86_64, 1.30): 1.30.4-20241109, behind (latest 1.30.4-20241120)"
    history = [("1.30.4-20241109", at("2024-11-10")), ("1.30.4-20241115", at("2024-11-16")),
               ("1.30.4-20241120", at("2024-11-21"))]  # fmt: skip
    counted = group_patch(group, Published(parameter="p", latest="1.30.4-20241120", history=history))
    assert (counted.behind, counted.since) == (2, at("2024-11-16"))
    ahead = NodeGroup(name="g", version="1.30", status="ACTIVE", release="1.30.4-20241201", ami_type="AL2_x86_64")
    assert group_patch(ahead, Published(parameter="p", latest="1.30.4-20241120")).current


def test_pools_flag_kubelets_behind_and_mixed_images() -> None:
    def node(name: str, kubelet: str, image: str, labels: dict[str, str]) -> dict[str, object]:
        info = {"kubeletVersion": kubelet, "osImage": image}
        return {"metadata": {"name": name, "labels": labels}, "status": {"nodeInfo": info}}

    found = pools(
        [
            node("a", "v1.30.1", "AL2023", {"eks.amazonaws.com/nodegroup": "g"}),
            node("b", "v1.30.1", "AL2023", {}),
            node("c", "v1.30.1", "AL2023", {}),
        ],
        "1.30",
    )
    assert [(p.name, p.flags) for p in found] == [("self-managed nodes", [])]
    assert pools([node("d", "v1.29.1", "x", {}), node("e", "v1.30.1", "y", {})], "1.30")[0].flags == [
        "self-managed nodes: kubelet v1.29.1 on 1 node(s) is behind the control plane's 1.30",
        "self-managed nodes: the OS image differs across the pool (2 images)",
    ]


def test_add_ons_and_the_end_of_support() -> None:
    addon = Addon(name="kube-proxy", version="v1.30.0-eksbuild.3", status="ACTIVE",
                  compatible=["v1.30.0-eksbuild.3", "v1.30.6-eksbuild.2", "v1.30.0-eksbuild.10"])  # fmt: skip
    found = addon_patch(addon)
    assert (found.newest, found.newer) == ("v1.30.6-eksbuild.2", 2)
    soon = Support(version="1.29", end_of_standard=date(2027, 3, 23))
    assert support_line("1.29", soon, TODAY) == ("1.29 standard support ends 2027-03-23: 111 days", False)
    ended = Support(version="1.28", end_of_standard=date(2026, 11, 26), end_of_extended=date(2027, 11, 26))
    assert support_line("1.28", ended, TODAY) == (
        "1.28 standard support ended 2026-11-26 (6 days ago); extended support (billed) until 2027-11-26",
        True,
    )
    report = PatchReport("prod", "eks-prod", failures=["EKS: access denied: …"])
    assert report.summary() == "⚠️ prod (eks-prod): all current (not read: EKS)"
