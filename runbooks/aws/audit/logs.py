"""The EKS control plane's audit log through boto3: whether the cluster writes it (``describe_cluster``'s
``logging.clusterLogging``), and the week's events of ``/aws/eks/<cluster>/cluster`` that matter, read with
``filter_log_events`` and summed up by ``runbooks.aws.audit.model``. Synchronous: call it from a worker thread.

Why ``filter_log_events`` and not Logs Insights: the JSON filter pattern below leaves Kubernetes' own traffic
(controllers, nodes, EKS) in CloudWatch, so what is read is people's requests and denials, and every line is then
checked again here (moto evaluates no JSON pattern and no stream prefix; the summary is the same either way).
Insights' ``stats`` would count on the server, but moto cannot evaluate it, and a query's 10,000-row limit bounds
it no better. The read is bounded (``PAGES``): a busier week is said to be partial.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from runbooks.aws.audit.model import ClusterAudit, Summary

if TYPE_CHECKING:
    from mypy_boto3_eks.client import EKSClient

PERMISSION = "logs:FilterLogEvents"
STREAM_PREFIX = "kube-apiserver-audit"
PAGES = 20  # pages of up to 10,000 events read per cluster and week
# People's changes, exec/attach, Secret reads, and denials (but the anonymous internet's): Kubernetes' and EKS's
# own requests stay on the server. CloudWatch's JSON filter pattern syntax; wildcards in string values.
PATTERN = (
    '{ ($.responseStatus.code = 403 && $.user.username != "system:anonymous") || $.impersonatedUser.username = "*" '
    '|| ($.user.username != "system:*" && $.user.username != "eks:*" && ($.verb = "create" || $.verb = "update" '
    '|| $.verb = "patch" || $.verb = "delete" || $.verb = "deletecollection" || $.objectRef.resource = "secrets" '
    '|| $.objectRef.subresource = "exec" || $.objectRef.subresource = "attach")) }'
)


def log_group(eks_name: str) -> str:
    return f"/aws/eks/{eks_name}/cluster"


def enable_hint(eks_name: str, region: str) -> str:
    return (
        f"audit logging is off for {eks_name}: enable it (aws eks update-cluster-config --region {region} "
        f'--name {eks_name} --logging \'{{"clusterLogging":[{{"types":["audit"],"enabled":true}}]}}\')'
    )


def audit_enabled(eks: EKSClient, eks_name: str) -> bool:
    cluster: dict[str, Any] = dict(eks.describe_cluster(name=eks_name)["cluster"])
    settings = (cluster.get("logging") or {}).get("clusterLogging") or []
    return any(s.get("enabled") and "audit" in (s.get("types") or []) for s in settings)


def read(logs: Any, cluster: str, eks_name: str, *, region: str, start: datetime, end: datetime) -> ClusterAudit:
    """The week's audit of one cluster (``cluster`` as chat names it) whose audit logging is on. Raises the AWS error
    when a call fails, but for the one that says there is no log group: said plainly, as logging off is."""
    summary = Summary(cluster)
    request: dict[str, Any] = {
        "logGroupName": log_group(eks_name),
        "logStreamNamePrefix": STREAM_PREFIX,
        "startTime": int(start.timestamp() * 1000),
        "endTime": int(end.timestamp() * 1000),
        "filterPattern": PATTERN,
    }
    for _ in range(PAGES):
        try:
            page = logs.filter_log_events(**request)
        except logs.exceptions.ResourceNotFoundException:
            return ClusterAudit(cluster, off=f"{enable_hint(eks_name, region)}; there is no {log_group(eks_name)}")
        for event in page.get("events") or []:
            if str(event.get("logStreamName", "")).startswith(STREAM_PREFIX):
                summary.add(str(event.get("message", "")))
        token = page.get("nextToken")
        if not token:
            return summary.result()
        request["nextToken"] = token
    return summary.result(partial=True)
