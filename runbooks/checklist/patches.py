"""How current an EKS cluster's security patches are (pure): each managed node group's AMI release against the
latest recommended (how many releases behind, out of date since when), the Karpenter and self-managed nodes by
kubelet and OS image, add-ons with a newer compatible version, and the control plane's end of standard support."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from runbooks.aws.eks import Addon, NodeGroup
from runbooks.aws.patches import Published, Support
from runbooks.checklist.eks import minor
from runbooks.kube.objects import Obj

MANAGED_LABEL = "eks.amazonaws.com/nodegroup"
POOL_LABEL = "karpenter.sh/nodepool"
SUPPORT_WARN_DAYS = 90  # the end of standard support this near (or past) counts as a problem
_RELEASE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.]+))?$")
_NUMBERS = re.compile(r"\d+")


def release_key(release: str) -> tuple[int, ...] | None:
    """The order of AMI releases: ``1.30.4-20241109`` (Amazon Linux) by its date, then its patch version;
    ``1.20.3-5d9ac849`` (Bottlerocket) by its version. None: not a release this bot can order."""
    match = _RELEASE.match(release.strip())
    if not match:
        return None
    numbers = (int(match[1]), int(match[2]), int(match[3]))
    if match[4] and re.fullmatch(r"\d{8}", match[4]):
        return (int(match[4]), *numbers)
    return numbers


def addon_key(version: str) -> tuple[int, ...]:
    """``v1.18.0-eksbuild.1`` → (1, 18, 0, 1)."""
    return tuple(int(n) for n in _NUMBERS.findall(version))


@dataclass(frozen=True)
class GroupPatch:
    name: str
    version: str
    ami_type: str
    release: str
    latest: str | None = None
    behind: int | None = None  # releases published since the group's; None: not counted (no history)
    since: datetime | None = None  # when the first release newer than the group's was published
    note: str = ""  # why it was not compared

    @property
    def current(self) -> bool:
        return self.latest is not None and self.behind == 0

    @property
    def out_of_date(self) -> bool:
        return self.latest is not None and self.behind != 0

    def line(self, today: date) -> str:
        head = f"node group {self.name} ({self.ami_type or 'unknown AMI'}, {self.version}): {self.release or '?'}"
        if self.latest is None:
            return f"{head}, {self.note or 'not compared'}"
        if self.current:
            return f"{head}, the latest"
        if self.behind is None:
            return f"{head}, behind (latest {self.latest})"
        releases = "release" if self.behind == 1 else "releases"
        since = ""
        if self.since is not None:
            since = f", out of date since {self.since.date().isoformat()} ({(today - self.since.date()).days} days)"
        return f"{head}, {self.behind} {releases} behind (latest {self.latest}){since}"


def group_patch(group: NodeGroup, published: Published | None, note: str = "") -> GroupPatch:
    """``published``: the latest for the group's AMI type and version (None: not read, ``note`` says why)."""
    base = GroupPatch(group.name, group.version, group.ami_type, group.release, note=note)
    if published is None:
        return base
    mine, newest = release_key(group.release), release_key(published.latest)
    if group.release == published.latest or (mine is not None and newest is not None and mine >= newest):
        return replace(base, latest=published.latest, behind=0)
    if mine is None or newest is None or published.history is None:
        return replace(base, latest=published.latest)
    newer: list[tuple[str, datetime]] = []
    for value, when in published.history:
        key = release_key(value)
        if key is not None and mine < key <= newest and value not in (v for v, _ in newer):
            newer.append((value, when))
    return replace(base, latest=published.latest, behind=max(len(newer), 1), since=newer[0][1] if newer else None)


@dataclass
class Pool:
    """Nodes outside managed node groups: a Karpenter NodePool, or the self-managed rest."""

    name: str
    kubelets: Counter[str] = field(default_factory=Counter)
    images: Counter[str] = field(default_factory=Counter)
    flags: list[str] = field(default_factory=list)

    def line(self) -> str:
        kubelets = ", ".join(f"{v} ({n})" for v, n in sorted(self.kubelets.items()))
        images = ", ".join(f"{v} ({n})" for v, n in sorted(self.images.items()))
        return f"{self.name}: {sum(self.kubelets.values())} node(s), kubelet {kubelets}; {images}"


def pools(nodes: Sequence[Obj], plane_version: str | None) -> list[Pool]:
    """The nodes no managed node group owns (no ``eks.amazonaws.com/nodegroup`` label), by Karpenter NodePool;
    flagged when a kubelet's minor is behind the control plane's or the OS images differ within the pool."""
    found: dict[str, Pool] = {}
    for node in nodes:
        labels = (node.get("metadata") or {}).get("labels") or {}
        if MANAGED_LABEL in labels:
            continue
        info = (node.get("status") or {}).get("nodeInfo") or {}
        pool_name = labels.get(POOL_LABEL)
        name = f"Karpenter pool {pool_name}" if pool_name else "self-managed nodes"
        pool = found.setdefault(name, Pool(name))
        pool.kubelets[str(info.get("kubeletVersion", "?"))] += 1
        pool.images[str(info.get("osImage", "?"))] += 1
    plane_minor = minor(plane_version) if plane_version else None
    for pool in found.values():
        if plane_minor is not None:
            behind = sorted(v for v in pool.kubelets if (minor(v) or 0) < plane_minor)
            if behind:
                count = sum(pool.kubelets[v] for v in behind)
                pool.flags.append(
                    f"{pool.name}: kubelet {', '.join(behind)} on {count} node(s) is behind the control plane's "
                    f"{plane_version}"
                )
        if len(pool.images) > 1:
            pool.flags.append(f"{pool.name}: the OS image differs across the pool ({len(pool.images)} images)")
    return sorted(found.values(), key=lambda p: p.name)


@dataclass(frozen=True)
class AddonPatch:
    name: str
    version: str
    newest: str | None  # the newest compatible version above the installed one
    newer: int = 0

    def line(self, cluster_version: str) -> str:
        if self.newest is None:
            return f"add-on {self.name} {self.version}, the newest compatible with {cluster_version}"
        return (
            f"add-on {self.name} {self.version} → {self.newest} ({self.newer} newer compatible with {cluster_version})"
        )


def addon_patch(addon: Addon) -> AddonPatch:
    """``addon.compatible``: the versions compatible with the cluster's own Kubernetes version."""
    mine = addon_key(addon.version)
    newer = sorted({v for v in addon.compatible if addon_key(v) > mine}, key=addon_key)
    return AddonPatch(addon.name, addon.version, newer[-1] if newer else None, len(newer))


def support_line(version: str, found: Support | None, today: date) -> tuple[str, bool]:
    """The control plane's end of standard support, and whether it is near (``SUPPORT_WARN_DAYS``) or past."""
    if found is None or found.end_of_standard is None:
        return f"{version}: EKS names no end of standard support", False
    end = found.end_of_standard
    days = (end - today).days
    if days >= 0:
        return f"{version} standard support ends {end.isoformat()}: {days} days", days <= SUPPORT_WARN_DAYS
    extended = f"; extended support (billed) until {found.end_of_extended.isoformat()}" if found.end_of_extended else ""
    return f"{version} standard support ended {end.isoformat()} ({-days} days ago){extended}", True


@dataclass
class PatchReport:
    cluster: str
    eks_name: str
    version: str | None = None
    support: str | None = None
    support_near: bool = False
    groups: list[GroupPatch] = field(default_factory=list)
    pools: list[Pool] = field(default_factory=list)
    addons: list[AddonPatch] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # "SSM: access denied: …", one per source

    @property
    def problems(self) -> list[str]:
        out = [f"{g.name} behind" for g in self.groups if g.out_of_date]
        out += [flag for pool in self.pools for flag in pool.flags]
        out += [f"add-on {a.name} behind" for a in self.addons if a.newest]
        return out + ([self.support] if self.support_near and self.support else [])

    def summary(self) -> str:
        behind = sum(1 for g in self.groups if g.out_of_date)
        addons = sum(1 for a in self.addons if a.newest)
        flagged = sum(len(p.flags) for p in self.pools)
        parts = []
        if behind:
            parts.append(f"{behind} node group{'s' if behind != 1 else ''} behind")
        if flagged:
            parts.append(f"{flagged} pool flag{'s' if flagged != 1 else ''}")
        if addons:
            parts.append(f"{addons} add-on{'s' if addons != 1 else ''} behind")
        if self.support:
            parts.append(self.support)
        mark = "🔴" if self.problems else ("⚠️" if self.failures else "✅")
        said = "; ".join(parts) if parts else "all current"
        unread = f" (not read: {', '.join(f.split(':', 1)[0] for f in self.failures)})" if self.failures else ""
        return f"{mark} {self.cluster} ({self.eks_name}): {said}{unread}"
