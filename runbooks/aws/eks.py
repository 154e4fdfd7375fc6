"""EKS through boto3: the cluster, its node groups, add-ons (with the versions compatible with a target) and
upgrade insights; the control-plane, node-group and add-on updates and how they progress. Synchronous: call it
from a worker thread."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from mypy_boto3_eks.client import EKSClient


class EksControlPlane(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    status: str
    platform_version: str = ""


class NodeGroup(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    status: str
    release: str = ""
    ami_type: str = ""  # AL2_x86_64, AL2023_ARM_64_STANDARD, BOTTLEROCKET_x86_64, CUSTOM, …


class Addon(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    status: str
    compatible: list[str] = []  # versions compatible with the target Kubernetes version, newest first
    default: str | None = None  # the default version for the target


class Insight(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    status: str  # PASSING, WARNING, ERROR, UNKNOWN
    reason: str = ""


class EksUpdate(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    status: str  # InProgress, Failed, Cancelled, Successful
    errors: list[str] = []

    @property
    def finished(self) -> bool:
        return self.status in ("Failed", "Cancelled", "Successful")


def control_plane(eks: EKSClient, name: str) -> EksControlPlane:
    cluster: dict[str, Any] = dict(eks.describe_cluster(name=name)["cluster"])
    return EksControlPlane(
        name=name,
        version=str(cluster.get("version", "?")),
        status=str(cluster.get("status", "?")),
        platform_version=str(cluster.get("platformVersion", "")),
    )


def node_groups(eks: EKSClient, name: str) -> list[NodeGroup]:
    out = []
    for page in eks.get_paginator("list_nodegroups").paginate(clusterName=name):
        for group in page["nodegroups"]:
            found: dict[str, Any] = dict(eks.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"])
            out.append(
                NodeGroup(
                    name=group,
                    version=str(found.get("version", "?")),
                    status=str(found.get("status", "?")),
                    release=str(found.get("releaseVersion", "")),
                    ami_type=str(found.get("amiType", "")),
                )
            )
    return out


def addons(eks: EKSClient, name: str, target: str) -> list[Addon]:
    """Each installed add-on with the versions of it compatible with ``target``."""
    out = []
    for page in eks.get_paginator("list_addons").paginate(clusterName=name):
        for addon in page["addons"]:
            found: dict[str, Any] = dict(eks.describe_addon(clusterName=name, addonName=addon)["addon"])
            versions = eks.describe_addon_versions(addonName=addon, kubernetesVersion=target)["addons"]
            compatible, default = [], None
            for info in versions:
                for version in info.get("addonVersions", []):
                    fits = [c for c in version.get("compatibilities", []) if c.get("clusterVersion") == target]
                    if fits:
                        compatible.append(str(version["addonVersion"]))
                        if any(c.get("defaultVersion") for c in fits):
                            default = str(version["addonVersion"])
            out.append(
                Addon(
                    name=addon,
                    version=str(found.get("addonVersion", "?")),
                    status=str(found.get("status", "?")),
                    compatible=compatible,
                    default=default,
                )
            )
    return out


def insights(eks: EKSClient, name: str, target: str) -> list[Insight]:
    """Upgrade-readiness insights for ``target``; empty where the API offers none."""
    found = eks.list_insights(
        clusterName=name, filter={"categories": ["UPGRADE_READINESS"], "kubernetesVersions": [target]}
    )["insights"]
    return [
        Insight(
            name=str(i.get("name", i.get("id", "?"))),
            status=str((i.get("insightStatus") or {}).get("status", "UNKNOWN")),
            reason=str((i.get("insightStatus") or {}).get("reason", "")),
        )
        for i in found
    ]


def update_of(data: Any) -> EksUpdate:
    errors = [f"{e.get('errorCode', '?')}: {e.get('errorMessage', '')}".rstrip(": ") for e in data.get("errors") or []]
    return EksUpdate(id=str(data["id"]), status=str(data.get("status", "?")), errors=errors)


def upgrade_control_plane(eks: EKSClient, name: str, version: str, token: str) -> EksUpdate:
    """``token`` makes the call idempotent: the same token twice is one update."""
    return update_of(eks.update_cluster_version(name=name, version=version, clientRequestToken=token)["update"])


def upgrade_node_group(eks: EKSClient, name: str, group: str, version: str, token: str) -> EksUpdate:
    made = eks.update_nodegroup_version(
        clusterName=name, nodegroupName=group, version=version, clientRequestToken=token
    )
    return update_of(made["update"])


def update_node_group_release(eks: EKSClient, name: str, group: str, release: str, token: str) -> EksUpdate:
    """The node group's AMI to ``release`` at its own Kubernetes version (the security patches of that release)."""
    made = eks.update_nodegroup_version(
        clusterName=name, nodegroupName=group, releaseVersion=release, clientRequestToken=token
    )
    return update_of(made["update"])


def update_addon(eks: EKSClient, name: str, addon: str, version: str, token: str) -> EksUpdate:
    made = eks.update_addon(
        clusterName=name, addonName=addon, addonVersion=version, resolveConflicts="PRESERVE", clientRequestToken=token
    )
    return update_of(made["update"])


def update(
    eks: EKSClient, name: str, update_id: str, *, group: str | None = None, addon: str | None = None
) -> EksUpdate:
    args: dict[str, Any] = {"name": name, "updateId": update_id}
    if group:
        args["nodegroupName"] = group
    if addon:
        args["addonName"] = addon
    return update_of(eks.describe_update(**args)["update"])
