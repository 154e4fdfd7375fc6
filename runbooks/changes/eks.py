"""EKS upgrades as offers: the control plane by one minor (refused unless the pre-checks pass, or ``--force`` was
stated and named in the confirm), then each node group and each add-on as its own offer. Every call carries a
client request token, so a retried call is one update; progress is read with ``describe_update``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import PrivateAttr

from runbooks.aws import eks
from runbooks.aws.errors import ANSWERED, code
from runbooks.aws.errors import explain as explain_aws
from runbooks.changes import Change, Site
from runbooks.checklist.eks import Readiness, minor, readiness, target_refusal
from runbooks.errors import Refused
from runbooks.kube.objects import Obj

FOLLOW_CONTROL_PLANE = 90 * 60.0  # EKS says up to an hour or so
FOLLOW_NODE_GROUP = 120 * 60.0
FOLLOW_ADDON = 30 * 60.0
NO_INSIGHTS = {"ResourceNotFoundException", "InvalidRequestException", "UnknownOperationException", "404"}


def kubelet_versions(nodes: list[Obj]) -> dict[str, str]:
    return {
        str((n.get("metadata") or {}).get("name")): str(
            ((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "?")
        )
        for n in nodes
    }


def check(site: Site, eks_name: str, region: str, target: str) -> Readiness:
    """Every pre-check, read now: EKS for the control plane, node groups, add-ons and insights; the Kubernetes
    API for the kubelets."""
    client = site.require_aws().eks(region)
    plane = eks.control_plane(client, eks_name)
    groups = eks.node_groups(client, eks_name)
    addons = eks.addons(client, eks_name, target)
    try:
        found = eks.insights(client, eks_name, target)
    except ANSWERED as exc:  # not every region or API version has insights; they only add to the checks
        if code(exc) not in NO_INSIGHTS:
            raise
        found = []
    kubelets = kubelet_versions(list(site.cluster().nodes()))
    return readiness(plane, target, groups=groups, kubelets=kubelets, addons=addons, insights=found)


class _EksChange(Change):
    eks_name: str
    region: str
    version: str
    token: str  # the client request token: one update however often the call is sent

    still: ClassVar[str] = "still updating"
    _update: str | None = PrivateAttr(default=None)

    def _client(self, site: Site) -> object:
        return site.require_aws().eks(self.region)

    def _progress(self, site: Site, **which: str) -> tuple[str, bool]:
        if self._update is None:
            return "no update to follow", True
        found = eks.update(site.require_aws().eks(self.region), self.eks_name, self._update, **which)
        errors = f": {'; '.join(found.errors)}" if found.errors else ""
        return f"{found.status}{errors}", found.finished


class EksUpgrade(_EksChange):
    kind: Literal["eks-upgrade"] = "eks-upgrade"
    force: bool = False

    label: ClassVar[str] = "EKS upgrade"
    verb: ClassVar[str] = "upgrade the EKS control plane of"
    done: ClassVar[str] = "started the EKS upgrade of"
    follow_for: ClassVar[float | None] = FOLLOW_CONTROL_PLANE

    @property
    def target(self) -> str:
        return f"EKS cluster {self.eks_name} to {self.version}"

    @property
    def progress_title(self) -> str:
        return f"Control plane of `{self.eks_name}` → {self.version}"

    @property
    def states(self) -> str:
        forced = " FORCED: the pre-checks did not pass." if self.force else ""
        return f"Upgrades the control plane of {self.eks_name} to Kubernetes {self.version} (cannot be undone).{forced}"

    def explain(self, exc: BaseException) -> str:
        return explain_aws(exc, "eks:UpdateClusterVersion and eks:DescribeUpdate", self.target)

    def carry_out(self, site: Site, now: datetime) -> str:
        client = site.require_aws().eks(self.region)
        plane = eks.control_plane(client, self.eks_name)
        refusal = target_refusal(plane.version, self.version)
        if refusal:
            raise Refused(refusal)
        if not self.force:
            ready = check(site, self.eks_name, self.region, self.version)
            if not ready.ready:
                raise Refused(f"the pre-checks do not pass now: {ready.verdict}")
        made = eks.upgrade_control_plane(client, self.eks_name, self.version, self.token)
        self._update = made.id
        return f"(update {made.id}, {made.status})"

    def progress(self, site: Site) -> tuple[str, bool]:
        return self._progress(site)

    def then(self, site: Site, outcome: str) -> list[Change]:
        """Once the control plane is there: each node group behind it, each add-on not compatible with it."""
        if not outcome.startswith("Successful"):
            return []
        client = site.require_aws().eks(self.region)
        base = {"cluster": self.cluster, "eks_name": self.eks_name, "region": self.region, "version": self.version}
        follow: list[Change] = [
            NodeGroupUpgrade(**base, group=g.name, token=f"{self.token}-ng-{g.name}"[:60])
            for g in eks.node_groups(client, self.eks_name)
            if minor(g.version) != minor(self.version)
        ]
        for addon in eks.addons(client, self.eks_name, self.version):
            wanted = addon.default or (addon.compatible[0] if addon.compatible else None)
            if wanted and addon.version != wanted:  # EKS's default for the new version, as its guide advises
                follow.append(
                    AddonUpdate(
                        **{**base, "version": wanted}, addon=addon.name, token=f"{self.token}-ad-{addon.name}"[:60]
                    )
                )
        return follow


class _NodeGroupChange(_EksChange):
    """A managed node group rolled to a new version or AMI release: its nodes replaced one by one."""

    group: str

    follow_for: ClassVar[float | None] = FOLLOW_NODE_GROUP

    def explain(self, exc: BaseException) -> str:
        return explain_aws(exc, "eks:UpdateNodegroupVersion and eks:DescribeUpdate", self.target)

    def _current(self, client: Any) -> eks.NodeGroup:
        current = next((g for g in eks.node_groups(client, self.eks_name) if g.name == self.group), None)
        if current is None:
            raise Refused(f"node group {self.group} is gone")
        return current

    def _rolls(self, to: str) -> str:
        return (
            f"Rolls node group {self.group} of {self.eks_name} to {to}: nodes are replaced one by one, their pods "
            "evicted (PodDisruptionBudgets respected)."
        )

    def progress(self, site: Site) -> tuple[str, bool]:
        return self._progress(site, group=self.group)


class NodeGroupUpgrade(_NodeGroupChange):
    kind: Literal["eks-nodegroup-upgrade"] = "eks-nodegroup-upgrade"

    label: ClassVar[str] = "node group upgrade"
    verb: ClassVar[str] = "upgrade"
    done: ClassVar[str] = "started the upgrade of"

    @property
    def target(self) -> str:
        return f"node group {self.group} of {self.eks_name} to {self.version}"

    @property
    def states(self) -> str:
        return self._rolls(f"Kubernetes {self.version}")

    def carry_out(self, site: Site, now: datetime) -> str:
        client = site.require_aws().eks(self.region)
        current = self._current(client)
        if minor(current.version) == minor(self.version):
            raise Refused(f"node group {self.group} is at {current.version} already")
        made = eks.upgrade_node_group(client, self.eks_name, self.group, self.version, self.token)
        self._update = made.id
        return f"(update {made.id}, {made.status})"


class AddonUpdate(_EksChange):
    kind: Literal["eks-addon-update"] = "eks-addon-update"
    addon: str

    label: ClassVar[str] = "add-on update"
    verb: ClassVar[str] = "update"
    done: ClassVar[str] = "started the update of"
    follow_for: ClassVar[float | None] = FOLLOW_ADDON

    @property
    def target(self) -> str:
        return f"add-on {self.addon} of {self.eks_name} to {self.version}"

    @property
    def states(self) -> str:
        return f"Updates the EKS add-on {self.addon} of {self.eks_name} to {self.version} (your own settings kept)."

    def explain(self, exc: BaseException) -> str:
        return explain_aws(exc, "eks:UpdateAddon and eks:DescribeUpdate", self.target)

    def carry_out(self, site: Site, now: datetime) -> str:
        made = eks.update_addon(
            site.require_aws().eks(self.region), self.eks_name, self.addon, self.version, self.token
        )
        self._update = made.id
        return f"(update {made.id}, {made.status})"

    def progress(self, site: Site) -> tuple[str, bool]:
        return self._progress(site, addon=self.addon)


class NodeGroupRelease(_NodeGroupChange):
    """A node group's AMI to the latest recommended release of its own Kubernetes version (``version`` is the
    group's, unchanged): the security patches of ``/eks patches``."""

    kind: Literal["eks-nodegroup-release"] = "eks-nodegroup-release"
    release: str

    label: ClassVar[str] = "node group update"
    verb: ClassVar[str] = "update"
    done: ClassVar[str] = "started the update of"

    @property
    def target(self) -> str:
        return f"node group {self.group} of {self.eks_name} to release {self.release}"

    @property
    def states(self) -> str:
        return self._rolls(f"AMI release {self.release} (Kubernetes {self.version} unchanged)")

    def carry_out(self, site: Site, now: datetime) -> str:
        client = site.require_aws().eks(self.region)
        current = self._current(client)
        if current.release == self.release:
            raise Refused(f"node group {self.group} is at release {self.release} already")
        if minor(current.version) != minor(self.version):
            raise Refused(f"node group {self.group} is at Kubernetes {current.version} now, not {self.version}")
        if current.status != "ACTIVE":
            raise Refused(f"node group {self.group} is {current.status}, not ACTIVE")
        made = eks.update_node_group_release(client, self.eks_name, self.group, self.release, self.token)
        self._update = made.id
        return f"(update {made.id}, {made.status})"
