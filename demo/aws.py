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


# The public parameter of each AMI type's recommended release: (release, days since it was published), oldest first.
AMI_RELEASES = {
    "/aws/service/eks/optimized-ami/1.29/amazon-linux-2/recommended/release_version": [
        ("1.29.0-20240202", 300), ("1.29.3-20240315", 260), ("1.29.8-20241109", 23),
    ],
}  # fmt: skip


class DemoEks(EksStandIn):
    """The demo's AWS endpoint: EKS's updates, add-ons and versions here (an update is Successful on its third read,
    as a real one ends), every other call forwarded to moto. A call that comes while the account is still being
    seeded waits for it, as a slow AWS would keep the caller waiting, rather than find it half made."""

    READS_TO_FINISH = 3

    def __init__(self, moto_url: str) -> None:
        super().__init__(moto_url)
        self.reads: dict[str, int] = {}
        self.seeded = threading.Event()
        self.clusters: dict[str, dict[str, Any]] = {}  # EKS's clusters and node groups, served here (not by moto)
        self.nodegroups: dict[tuple[str, str], dict[str, Any]] = {}

    def handle(self, request: Request) -> Reply:
        target = request.headers.get("X-Amz-Target", "")
        if target.endswith(".GetCostAndUsage"):
            return self.cost_and_usage(request.json())
        if target in ("AmazonSSM.GetParameter", "AmazonSSM.GetParameterHistory"):
            return self.parameter(request.json(), history=target.endswith("History"))
        return super().handle(request)

    def forward(self, request: Request) -> Any:
        self.seeded.wait(120)  # moto's answers wait for its seeding; this stand-in's own do not
        return super().forward(request)

    def parameter(self, body: dict[str, Any], *, history: bool) -> Reply:
        """The public SSM parameters of the EKS-optimized AMIs' releases (moto's SSM is not started for them)."""
        name = str(body.get("Name") or "")
        versions = AMI_RELEASES.get(name)
        if not versions:
            return Reply(400, {"__type": "ParameterNotFound", "message": f"Parameter {name} not found."})
        now = datetime.now(UTC)
        entries = [
            {"Name": name, "Type": "String", "Value": value, "Version": i, "DataType": "text",
             "LastModifiedDate": (now - timedelta(days=age)).timestamp()}
            for i, (value, age) in enumerate(versions, start=1)
        ]  # fmt: skip
        return Reply(200, {"Parameters": entries} if history else {"Parameter": entries[-1]})

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            *super().routes(),
            (r"/clusters/([^/]+)", "GET", self.describe_cluster),
            (r"/clusters/([^/]+)/node-groups", "GET", self.list_nodegroups),
            (r"/clusters/([^/]+)/node-groups/([^/]+)", "GET", self.describe_nodegroup),
        ]

    def describe_cluster(self, name: str, *, body: dict[str, Any], query: dict[str, str]) -> tuple[int, Any]:
        cluster = self.clusters.get(name)
        if cluster is None:
            return 404, {"message": f"No cluster found for name: {name}."}
        return 200, {"cluster": {**cluster, "version": self.cluster_versions.get(name, cluster["version"])}}

    def list_nodegroups(self, name: str, *, body: dict[str, Any], query: dict[str, str]) -> tuple[int, Any]:
        if name not in self.clusters:
            return 404, {"message": f"No cluster found for name: {name}."}
        return 200, {"nodegroups": sorted(group for cluster, group in self.nodegroups if cluster == name)}

    def describe_nodegroup(
        self, name: str, group: str, *, body: dict[str, Any], query: dict[str, str]
    ) -> tuple[int, Any]:
        found = self.nodegroups.get((name, group))
        if found is None:
            return 404, {"message": f"No node group found for name: {group}."}
        version = self.nodegroup_versions.get((name, group), found["version"])
        release = self.nodegroup_releases.get((name, group), found["releaseVersion"])
        return 200, {"nodegroup": {**found, "version": version, "releaseVersion": release}}

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


def seed_eks(eks: DemoEks) -> None:
    """``demo-eks`` at 1.29 (one minor behind) with its node group ``general`` an AMI release behind, vpc-cni two
    versions behind, support dates and no insights."""
    created = datetime.now(UTC) - timedelta(days=400)
    eks.clusters["demo-eks"] = {
        "name": "demo-eks",
        "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/demo-eks",
        "createdAt": created.timestamp(),
        "version": "1.29",
        "endpoint": "https://demo-eks.gr7.us-east-1.eks.amazonaws.com",
        "roleArn": ROLE,
        "resourcesVpcConfig": {"subnetIds": ["subnet-1"], "endpointPublicAccess": True, "endpointPrivateAccess": True},
        "logging": {"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": False}]},
        "status": "ACTIVE",
        "platformVersion": "eks.12",
        "tags": {"team": "platform"},
    }
    eks.nodegroups["demo-eks", "general"] = {
        "nodegroupName": "general",
        "nodegroupArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/demo-eks/general/1",
        "clusterName": "demo-eks",
        "version": "1.29",
        "releaseVersion": "1.29.0-20240202",
        "createdAt": created.timestamp(),
        "modifiedAt": created.timestamp(),
        "status": "ACTIVE",
        "capacityType": "ON_DEMAND",
        "scalingConfig": {"minSize": 3, "maxSize": 8, "desiredSize": 5},
        "instanceTypes": ["m6i.xlarge"],
        "subnets": ["subnet-1"],
        "amiType": "AL2_x86_64",
        "nodeRole": ROLE,
        "health": {"issues": []},
        "labels": {},
        "tags": {},
    }
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
