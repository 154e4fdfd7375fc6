"""What an EKS cluster's patch currency is read from: the public SSM parameters naming the latest recommended AMI
release of each managed node group's AMI type and Kubernetes version (with their history: the releases published
since a group's, and when), and EKS's end of standard support of each Kubernetes version. Synchronous: call it from
a worker thread. No error is caught here: the caller names the source that failed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from mypy_boto3_eks.client import EKSClient

_KUBERNETES = re.compile(r"^1\.\d{1,3}$")
_EKS = "/aws/service/eks/optimized-ami/{v}/{os}/recommended/release_version"
_BOTTLEROCKET = "/aws/service/bottlerocket/aws-k8s-{v}{flavor}/{arch}/latest/image_version"
# A managed node group's amiType → its public parameter (AWS's "Retrieve recommended … AMI IDs" guides).
AMI_PARAMETERS = {
    "AL2_x86_64": _EKS.replace("{os}", "amazon-linux-2"),
    "AL2_x86_64_GPU": _EKS.replace("{os}", "amazon-linux-2-gpu"),
    "AL2_ARM_64": _EKS.replace("{os}", "amazon-linux-2-arm64"),
    "AL2023_x86_64_STANDARD": _EKS.replace("{os}", "amazon-linux-2023/x86_64/standard"),
    "AL2023_ARM_64_STANDARD": _EKS.replace("{os}", "amazon-linux-2023/arm64/standard"),
    "AL2023_x86_64_NVIDIA": _EKS.replace("{os}", "amazon-linux-2023/x86_64/nvidia"),
    "AL2023_ARM_64_NVIDIA": _EKS.replace("{os}", "amazon-linux-2023/arm64/nvidia"),
    "AL2023_x86_64_NEURON": _EKS.replace("{os}", "amazon-linux-2023/x86_64/neuron"),
    "BOTTLEROCKET_x86_64": _BOTTLEROCKET.replace("{flavor}", "").replace("{arch}", "x86_64"),
    "BOTTLEROCKET_ARM_64": _BOTTLEROCKET.replace("{flavor}", "").replace("{arch}", "arm64"),
    "BOTTLEROCKET_x86_64_NVIDIA": _BOTTLEROCKET.replace("{flavor}", "-nvidia").replace("{arch}", "x86_64"),
    "BOTTLEROCKET_ARM_64_NVIDIA": _BOTTLEROCKET.replace("{flavor}", "-nvidia").replace("{arch}", "arm64"),
    "BOTTLEROCKET_x86_64_FIPS": _BOTTLEROCKET.replace("{flavor}", "-fips").replace("{arch}", "x86_64"),
    "BOTTLEROCKET_ARM_64_FIPS": _BOTTLEROCKET.replace("{flavor}", "-fips").replace("{arch}", "arm64"),
}


def parameter(ami_type: str, version: str) -> str | None:
    """The public parameter of the latest recommended release for ``ami_type`` at Kubernetes ``version`` (None: a
    custom AMI, a Windows one, or a version that is no ``1.N``)."""
    template = AMI_PARAMETERS.get(ami_type)
    return template.replace("{v}", version) if template and _KUBERNETES.match(version) else None


class Published(BaseModel):
    """A parameter's value now and, where its history could be read, every value it had, oldest first, with
    when it was set."""

    model_config = ConfigDict(frozen=True)

    parameter: str
    latest: str
    history: list[tuple[str, datetime]] | None = None


class Support(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    end_of_standard: date | None = None
    end_of_extended: date | None = None
    status: str = ""


def latest(ssm: Any, name: str) -> Published:
    found = ssm.get_parameter(Name=name)["Parameter"]
    return Published(parameter=name, latest=str(found.get("Value", "")))


def history(ssm: Any, name: str) -> list[tuple[str, datetime]]:
    """Every version of the parameter (ssm:GetParameterHistory), oldest first."""
    found: list[tuple[int, str, datetime]] = []
    for page in ssm.get_paginator("get_parameter_history").paginate(Name=name):
        for entry in page.get("Parameters", []):
            found.append((int(entry.get("Version", 0)), str(entry.get("Value", "")), _aware(entry["LastModifiedDate"])))
    return [(value, when) for _, value, when in sorted(found, key=lambda e: e[0])]


def support(eks: EKSClient, version: str) -> Support | None:
    """EKS's support dates of ``version`` (``describe_cluster_versions``); None where EKS names none."""
    for page in eks.get_paginator("describe_cluster_versions").paginate(clusterVersions=[version]):
        for found in page.get("clusterVersions", []):
            if found.get("clusterVersion") == version:
                return Support(
                    version=version,
                    end_of_standard=_day(found.get("endOfStandardSupportDate")),
                    end_of_extended=_day(found.get("endOfExtendedSupportDate")),
                    status=str(found.get("versionStatus") or found.get("status") or ""),
                )
    return None


def _aware(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(float(value), UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(value: Any) -> date | None:
    return _aware(value).date() if value is not None else None
