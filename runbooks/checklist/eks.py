"""Whether an EKS cluster is ready for a one-minor upgrade (pure): the control plane, node groups at its version,
kubelets within the skew policy of the target, add-ons compatible with it, and EKS's own upgrade insights."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from runbooks.aws.eks import Addon, EksControlPlane, Insight, NodeGroup

KUBELET_SKEW = 3  # kubelets may be up to three minors older than the API server (Kubernetes >= 1.28)


def minor(version: str) -> int | None:
    """``1.30``, ``v1.30.4-eks-a737599`` → 30."""
    parts = version.lstrip("v").split(".")
    try:
        return int(parts[1].split("-")[0].split("+")[0]) if len(parts) > 1 and parts[0] == "1" else None
    except ValueError:
        return None


def next_version(current: str) -> str | None:
    current_minor = minor(current)
    return f"1.{current_minor + 1}" if current_minor is not None else None


@dataclass
class Readiness:
    current: str
    target: str
    blockers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.blockers

    @property
    def verdict(self) -> str:
        if self.ready:
            return f"ready to upgrade {self.current} → {self.target}"
        return f"blocked by {'; '.join(self.blockers)}"


def target_refusal(current: str, target: str) -> str | None:
    """Why ``target`` is no upgrade EKS would do from ``current`` (one minor at a time), or None."""
    now, then = minor(current), minor(target)
    if now is None or then is None:
        return f"cannot compare versions {current} and {target}"
    if then <= now:
        return f"the control plane is at {current} already; {target} is no upgrade"
    if then > now + 1:
        return f"{current} → {target} skips a minor version; EKS upgrades one minor at a time (next: 1.{now + 1})"
    return None


def readiness(
    plane: EksControlPlane,
    target: str,
    *,
    groups: Sequence[NodeGroup],
    kubelets: dict[str, str],
    addons: Sequence[Addon],
    insights: Sequence[Insight],
) -> Readiness:
    """``kubelets``: node name → kubelet version, from the Kubernetes API."""
    result = Readiness(current=plane.version, target=target)
    result.facts.append(
        f"control plane {plane.version} ({plane.status}, platform {plane.platform_version or 'unknown'})"
    )
    refusal = target_refusal(plane.version, target)
    if refusal:
        result.blockers.append(refusal)
    if plane.status != "ACTIVE":
        result.blockers.append(f"the cluster is {plane.status}, not ACTIVE")
    plane_minor, target_minor = minor(plane.version), minor(target)
    for group in groups:
        result.facts.append(f"node group {group.name}: {group.version} ({group.status})")
        if minor(group.version) != plane_minor:
            result.blockers.append(
                f"node group {group.name} is at {group.version}, not the control plane's {plane.version}: "
                "upgrade it to match first"
            )
        elif group.status != "ACTIVE":
            result.blockers.append(f"node group {group.name} is {group.status}")
    if target_minor is not None:
        behind = sorted(n for n, v in kubelets.items() if (minor(v) or 0) < target_minor - KUBELET_SKEW)
        if behind:
            shown = ", ".join(f"{n} ({kubelets[n]})" for n in behind[:10])
            result.blockers.append(
                f"kubelets more than {KUBELET_SKEW} minors behind {target}: {shown}"
                + (f" and {len(behind) - 10} more" if len(behind) > 10 else "")
            )
    if kubelets:
        result.facts.append(f"kubelets: {', '.join(sorted(set(kubelets.values())))} on {len(kubelets)} node(s)")
    for addon in addons:
        if addon.version in addon.compatible:
            result.facts.append(f"add-on {addon.name} {addon.version}: compatible with {target}")
            continue
        advice = f"; update it to {addon.default or addon.compatible[0]}" if addon.compatible else ""
        result.blockers.append(f"add-on {addon.name} {addon.version} is not compatible with {target}{advice}")
    for insight in insights:
        if insight.status == "ERROR":
            result.blockers.append(f"insight {insight.name}: {insight.reason or 'ERROR'}")
        elif insight.status == "WARNING":
            result.warnings.append(f"insight {insight.name}: {insight.reason or 'WARNING'}")
    return result
