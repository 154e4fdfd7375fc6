"""A cluster with history for the change feed: the runbook seed's api-gateway rolled out again 10 minutes ago
(2.4.1 → 2.4.2, revision 4, by argocd), a ConfigMap of another namespace changed an hour ago, a Secret with data
(whose keys and values must never appear), and a node cordoned 30 minutes ago."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.cluster_seed import iso, node
from tests.support.runbook_seed import NS, replicaset, seed, template

SECRET_KEY = "STRIPE_LIVE_KEY"
SECRET_VALUE = "c2stbGl2ZS1zdXBlcnNlY3JldA=="  # base64 of what must never be shown


def changes_seed(now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    now = now or datetime.now(UTC)
    objects = seed(now)
    deployment = next(d for d in objects["apps/v1/deployments"] if d["metadata"]["name"] == "api-gateway")
    deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "4"
    deployment["spec"]["template"] = template("registry/api-gateway:2.4.2")
    deployment["metadata"]["managedFields"] = [
        {"manager": "argocd", "operation": "Update", "time": iso(now - timedelta(minutes=10)),
         "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:template": {}}}},
    ]  # fmt: skip
    rollout = replicaset(4, "registry/api-gateway:2.4.2", "deploy 2.4.2", now - timedelta(minutes=10))
    objects["apps/v1/replicasets"].append(rollout)
    objects["v1/configmaps"].append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "ledger-settings",
                "namespace": "billing",
                "creationTimestamp": iso(now - timedelta(days=3)),
                "managedFields": [{"manager": "helm", "operation": "Update", "time": iso(now - timedelta(hours=1))}],
            },
            "data": {"RETRIES": "3"},
        }
    )
    objects["v1/secrets"] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": "payments-stripe",
                "namespace": NS,
                "creationTimestamp": iso(now - timedelta(days=5)),
                "managedFields": [
                    {"manager": "kubectl", "operation": "Update", "time": iso(now - timedelta(minutes=50))}
                ],
            },
            "data": {SECRET_KEY: SECRET_VALUE},
        }
    ]
    cordoned = node("ip-10-0-3-7", cordoned=True)
    cordoned["metadata"]["creationTimestamp"] = iso(now - timedelta(days=12))
    cordoned["spec"]["taints"] = [
        {
            "key": "node.kubernetes.io/unschedulable",
            "effect": "NoSchedule",
            "timeAdded": iso(now - timedelta(minutes=30)),
        }
    ]
    objects["v1/nodes"] = [copy.deepcopy(cordoned)]
    return objects
