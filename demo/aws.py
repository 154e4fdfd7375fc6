"""The demo's AWS: moto's server, seeded as the guide's account looks (RDS ``demo-db`` with snapshots, EKS
``demo-eks`` one minor behind with an outdated add-on), behind one endpoint that serves what moto lacks: EKS's
updates (finished a few reads after they start), add-ons and versions, and Cost Explorer's daily costs."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

from demo.eks import AddonState, EksStandIn, Update
from demo.standin import Reply, Request

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/demo-eks"
CREDENTIALS = {  # moto takes any; these name nothing real
    "AWS_ACCESS_KEY_ID": "AKIADEMO000000000000",
    "AWS_SECRET_ACCESS_KEY": "demo-secret-not-a-real-key",
    "AWS_DEFAULT_REGION": REGION,
}
DAILY_COST = {
    "Amazon Elastic Compute Cloud - Compute": (412.0, 468.0),
    "Amazon Relational Database Service": (96.0, 97.5),
    "Amazon Elastic Kubernetes Service": (14.4, 14.4),
    "Amazon Simple Storage Service": (8.1, 9.3),
}


class DemoEks(EksStandIn):
    """The demo's AWS endpoint: EKS's updates, add-ons and versions here (an update is Successful on its third read,
    as a real one ends), every other call forwarded to moto. A call that comes while the account is still being
    seeded waits for it, as a slow AWS would keep the caller waiting, rather than find it half made."""

    READS_TO_FINISH = 3

    def __init__(self, moto_url: str) -> None:
        super().__init__(moto_url)
        self.reads: dict[str, int] = {}
        self.seeded = threading.Event()

    def handle(self, request: Request) -> Reply:
        self.seeded.wait(120)
        if request.headers.get("X-Amz-Target", "").endswith(".GetCostAndUsage"):
            return self.cost_and_usage(request.json())
        return super().handle(request)

    def cost_and_usage(self, body: dict[str, Any]) -> Reply:
        """Cost Explorer's daily costs for any period asked (moto answers its seeded result to one query only, and a
        ``wait`` asks for later days): the fortnight's pattern, each day by the week it falls in."""
        period = body.get("TimePeriod") or {}
        try:
            start, end = date.fromisoformat(period["Start"]), date.fromisoformat(period["End"])
        except (KeyError, TypeError, ValueError):
            return Reply(400, {"__type": "ValidationException", "message": "TimePeriod Start and End are dates"})
        days = (end - start).days
        if not 0 < days <= 400:
            return Reply(400, {"__type": "ValidationException", "message": "the period is 1 to 400 days"})
        results = cost_results(end, DAILY_COST, days=days)["results"][0]
        return Reply(200, results)

    def describe_update(
        self, cluster: str, update_id: str, *, body: dict[str, Any], query: dict[str, str]
    ) -> tuple[int, Any]:
        update: Update | None = self.updates.get(update_id)
        if update is not None and update.status == "InProgress":
            self.reads[update_id] = self.reads.get(update_id, 0) + 1
            if self.reads[update_id] >= self.READS_TO_FINISH:
                self._finished(update, "Successful")  # the request holds the lock
        return super().describe_update(cluster, update_id, body=body, query=query)


def client(url: str, service: str) -> Any:
    import boto3

    session: Any = boto3.session.Session()
    return session.client(
        service,
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def seed_rds(url: str) -> None:
    rds = client(url, "rds")
    rds.create_db_instance(
        DBInstanceIdentifier="demo-db",
        Engine="postgres",
        EngineVersion="15.4",
        DBInstanceClass="db.t3.medium",
        MasterUsername="payments",
        MasterUserPassword="demo-password-0",
        AllocatedStorage=100,
        BackupRetentionPeriod=7,
        MultiAZ=True,
        StorageEncrypted=True,
        Tags=[{"Key": "team", "Value": "data"}],
    )
    for name in ("demo-db-before-migration-0412", "demo-db-weekly"):
        rds.create_db_snapshot(DBInstanceIdentifier="demo-db", DBSnapshotIdentifier=name)


def seed_eks(url: str, eks: EksStandIn) -> None:
    api = client(url, "eks")
    api.create_cluster(name="demo-eks", version="1.29", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-1"]})
    api.create_nodegroup(
        clusterName="demo-eks",
        nodegroupName="general",
        nodeRole=ROLE,
        subnets=["subnet-1"],
        version="1.29",
        amiType="AL2_x86_64",
        releaseVersion="1.29.0-20240202",
    )
    eks.addons = {
        "demo-eks": {"vpc-cni": AddonState("v1.15.0-eksbuild.1"), "coredns": AddonState("v1.11.1-eksbuild.4")}
    }
    eks.versions = {
        "vpc-cni": [
            ("v1.18.0-eksbuild.1", ["1.29", "1.30"], ["1.30"]),
            ("v1.16.0-eksbuild.1", ["1.29", "1.30"], ["1.29"]),
            ("v1.15.0-eksbuild.1", ["1.28", "1.29"], []),
        ],
        "coredns": [("v1.11.1-eksbuild.4", ["1.29", "1.30"], ["1.29", "1.30"])],
        "kube-proxy": [("v1.30.0-eksbuild.3", ["1.30"], ["1.30"]), ("v1.29.0-eksbuild.1", ["1.29"], ["1.29"])],
    }
    end = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=75)
    eks.support = {
        version: {
            "endOfStandardSupportDate": (end + timedelta(days=120 * i)).timestamp(),
            "endOfExtendedSupportDate": (end + timedelta(days=120 * i + 365)).timestamp(),
            "status": "STANDARD_SUPPORT",
            "versionStatus": "STANDARD_SUPPORT",
        }
        for i, version in enumerate(("1.29", "1.30"))
    }
    eks.insights = {"demo-eks": []}


def cost_results(end: date, daily: dict[str, tuple[float, float]], days: int = 14) -> dict[str, Any]:
    """What moto's Cost Explorer seeding endpoint takes: ``days`` of daily costs by service up to ``end``, each
    service at its second figure in the last week and at its first before."""
    results = []
    for i in range(days, 0, -1):
        day = end - timedelta(days=i)
        groups = [
            {"Keys": [service], "Metrics": {"UnblendedCost": {"Amount": str(v[0] if i > 7 else v[1]), "Unit": "USD"}}}
            for service, v in daily.items()
        ]
        period = {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()}
        results.append({"TimePeriod": period, "Total": {}, "Groups": groups, "Estimated": False})
    return {"results": [{"ResultsByTime": results, "DimensionValueAttributes": [], "GroupDefinitions": []}]}


def seed(url: str, eks: DemoEks) -> None:
    try:
        seed_eks(url, eks)
        seed_rds(url)
    finally:
        eks.seeded.set()
