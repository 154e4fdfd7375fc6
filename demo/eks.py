"""A stand-in for the parts of the EKS REST API moto does not serve (updates, add-ons, add-on versions, insights,
node group and add-on updates), forwarding everything else (clusters, node groups) to moto. The bot's real boto3
client reaches it through ``AWS_ENDPOINT_URL_EKS``; the test decides how each update ends.

EKS is plain REST-JSON: ``POST /clusters/{name}/updates``, ``GET /clusters/{name}/updates/{id}``,
``GET /clusters/{name}/addons``, ``GET /addons/supported-versions``, ``POST /clusters/{name}/insights``, …
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from demo.standin import Reply, Request, StandIn, forward


@dataclass
class Update:
    id: str
    cluster: str
    type: str  # VersionUpdate, AddonUpdate
    version: str
    token: str
    nodegroup: str | None = None
    addon: str | None = None
    release: str | None = None  # a node group's AMI release (releaseVersion), its Kubernetes version kept
    status: str = "InProgress"
    errors: list[dict[str, Any]] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        params = [{"type": "Version", "value": self.version}]
        if self.release is not None:
            params.append({"type": "ReleaseVersion", "value": self.release})
        return {
            "id": self.id,
            "status": self.status,
            "type": self.type,
            "params": params,
            "createdAt": 1795000000,
            "errors": self.errors,
        }


@dataclass
class AddonState:
    version: str
    status: str = "ACTIVE"


class EksStandIn(StandIn):
    def __init__(self, moto_url: str) -> None:
        super().__init__()
        self.moto_url = moto_url.rstrip("/")
        self.updates: dict[str, Update] = {}
        self.addons: dict[str, dict[str, AddonState]] = {}  # cluster → add-on → state
        # add-on → [(version, [cluster versions it is compatible with], the cluster versions it is the default for)]
        self.versions: dict[str, list[tuple[str, list[str], list[str]]]] = {}
        self.insights: dict[str, list[dict[str, Any]]] = {}
        self.cluster_versions: dict[str, str] = {}  # after a successful upgrade
        self.nodegroup_versions: dict[tuple[str, str], str] = {}
        self.nodegroup_releases: dict[tuple[str, str], str] = {}
        # Kubernetes version → describe_cluster_versions' entry (endOfStandardSupportDate, … as epoch seconds)
        self.support: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []  # (operation, path)
        self.start()

    # What the test sets and reads -----------------------------------------------------------------------------
    def finish(self, update_id: str, status: str = "Successful", errors: list[dict[str, Any]] | None = None) -> None:
        with self.lock:
            self._finished(self.updates[update_id], status, errors)

    def _finished(self, update: Update, status: str, errors: list[dict[str, Any]] | None = None) -> None:
        """``finish`` with the lock held."""
        update.status, update.errors = status, errors or []
        if status == "Successful":
            if update.type == "VersionUpdate" and update.nodegroup is None:
                self.cluster_versions[update.cluster] = update.version
            elif update.nodegroup is not None and update.release is not None:
                self.nodegroup_releases[(update.cluster, update.nodegroup)] = update.release
            elif update.nodegroup is not None:
                self.nodegroup_versions[(update.cluster, update.nodegroup)] = update.version
            elif update.addon is not None:
                self.addons[update.cluster][update.addon] = AddonState(update.version)

    def of(self, operation: str) -> list[Update]:
        with self.lock:
            return [u for u in self.updates.values() if _operation(u) == operation]

    def count(self, operation: str) -> int:
        with self.lock:
            return sum(1 for op, _ in self.calls if op == operation)

    # The API --------------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        query = {k: v[0] for k, v in request.query.items()}
        for pattern, verb, answer in self.routes():
            match = re.fullmatch(pattern, request.path)
            if match and verb == request.method:
                body = request.json() if request.method == "POST" else {}  # EKS is JSON; RDS, STS are forms
                with self.lock:
                    self.calls.append((answer.__name__, request.path))
                    status, document = answer(*match.groups(), body=body, query=query)
                headers = {"x-amzn-ErrorType": "ResourceNotFoundException"} if status >= 400 else {}
                return Reply(status, document, headers)
        forwarded = self.forward(request)
        kind = forwarded.headers.get("Content-Type") or forwarded.headers.get("content-type") or "application/json"
        return Reply(forwarded.status, self._rewrite(forwarded.body), {"Content-Type": kind})

    def forward(self, request: Request) -> Any:
        """What this stand-in does not answer, moto's answer."""
        return forward(request, self.moto_url)

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            (r"/clusters/([^/]+)/updates", "POST", self.update_cluster_version),
            (r"/clusters/([^/]+)/updates/([^/]+)", "GET", self.describe_update),
            (r"/clusters/([^/]+)/addons", "GET", self.list_addons),
            (r"/clusters/([^/]+)/addons/([^/]+)", "GET", self.describe_addon),
            (r"/clusters/([^/]+)/addons/([^/]+)/update", "POST", self.update_addon),
            (r"/addons/supported-versions", "GET", self.describe_addon_versions),
            (r"/clusters/([^/]+)/insights", "POST", self.list_insights),
            (r"/clusters/([^/]+)/node-groups/([^/]+)/update-version", "POST", self.update_nodegroup_version),
            (r"/cluster-versions", "GET", self.describe_cluster_versions),
        ]

    def _start(
        self, cluster: str, kind: str, version: str, token: str, *, nodegroup: str | None = None,
        addon: str | None = None, release: str | None = None,
    ) -> tuple[int, Any]:  # fmt: skip
        for update in self.updates.values():  # a client request token seen before: the same update
            if token and update.token == token and update.cluster == cluster:
                return 200, {"update": update.document()}
        update = Update(str(uuid.uuid4()), cluster, kind, version, token, nodegroup, addon, release)
        self.updates[update.id] = update
        return 200, {"update": update.document()}

    def update_cluster_version(self, cluster: str, *, body: dict[str, Any], query: dict[str, str]) -> tuple[int, Any]:
        return self._start(cluster, "VersionUpdate", body["version"], body.get("clientRequestToken", ""))

    def update_nodegroup_version(
        self, cluster: str, group: str, *, body: dict[str, Any], query: dict[str, str]
    ) -> tuple[int, Any]:
        token = body.get("clientRequestToken", "")
        if "releaseVersion" in body:  # the AMI release at the group's own version (EKS keeps it when none is sent)
            version = body.get("version", "")
            return self._start(
                cluster, "VersionUpdate", version, token, nodegroup=group, release=body["releaseVersion"]
            )
        return self._start(cluster, "VersionUpdate", body["version"], token, nodegroup=group)

    def update_addon(self, cluster: str, addon: str, *, body: dict[str, Any], query: dict[str, str]) -> tuple[int, Any]:
        token = body.get("clientRequestToken", "")
        return self._start(cluster, "AddonUpdate", body["addonVersion"], token, addon=addon)

    def describe_update(
        self, cluster: str, update_id: str, *, body: dict[str, Any], query: dict[str, str]
    ) -> tuple[int, Any]:
        update = self.updates.get(update_id)
        if update is None or update.cluster != cluster:
            return 404, {"message": f"No update found for ID: {update_id}"}
        return 200, {"update": update.document()}

    def list_addons(self, cluster: str, *, body: dict[str, Any], query: dict[str, str]) -> tuple[int, Any]:
        return 200, {"addons": sorted(self.addons.get(cluster, {}))}

    def describe_addon(
        self, cluster: str, addon: str, *, body: dict[str, Any], query: dict[str, str]
    ) -> tuple[int, Any]:
        state = self.addons.get(cluster, {}).get(addon)
        if state is None:
            return 404, {"message": f"No addon: {addon} found in cluster: {cluster}"}
        return 200, {
            "addon": {"addonName": addon, "clusterName": cluster, "addonVersion": state.version, "status": state.status}
        }

    def describe_addon_versions(self, *, body: dict[str, Any], query: dict[str, str]) -> tuple[int, Any]:
        name, target = query.get("addonName", ""), query.get("kubernetesVersion")
        versions = [
            {
                "addonVersion": version,
                "compatibilities": [
                    {"clusterVersion": c, "platformVersions": ["*"], "defaultVersion": c in defaults}
                    for c in clusters
                    if target is None or c == target
                ],
            }
            for version, clusters, defaults in self.versions.get(name, [])
            if target is None or target in clusters
        ]
        return 200, {"addons": [{"addonName": name, "type": "networking", "addonVersions": versions}]}

    def describe_cluster_versions(self, *, body: dict[str, Any], query: dict[str, str]) -> tuple[int, Any]:
        """As EKS answers: the entries of the versions asked for (``clusterVersions``), or of every version."""
        asked = query.get("clusterVersions")
        wanted = {v for v in asked.split(",") if v} if asked else set(self.support)
        found = [
            {"clusterVersion": v, "clusterType": "eks", **self.support[v]} for v in sorted(wanted & set(self.support))
        ]
        return 200, {"clusterVersions": found}

    def list_insights(self, cluster: str, *, body: dict[str, Any], query: dict[str, str]) -> tuple[int, Any]:
        return 200, {"insights": self.insights.get(cluster, [])}

    # moto for the rest ----------------------------------------------------------------------------------------
    def _rewrite(self, raw: bytes) -> Any:
        """moto's cluster and node group, at the versions the test's updates reached."""
        try:
            document = json.loads(raw)
        except ValueError:
            return raw
        with self.lock:
            cluster = document.get("cluster") if isinstance(document, dict) else None
            if cluster and cluster.get("name") in self.cluster_versions:
                cluster["version"] = self.cluster_versions[cluster["name"]]
            group = document.get("nodegroup") if isinstance(document, dict) else None
            if group and (group.get("clusterName"), group.get("nodegroupName")) in self.nodegroup_versions:
                group["version"] = self.nodegroup_versions[(group["clusterName"], group["nodegroupName"])]
            if group and (group.get("clusterName"), group.get("nodegroupName")) in self.nodegroup_releases:
                group["releaseVersion"] = self.nodegroup_releases[(group["clusterName"], group["nodegroupName"])]
        return document


def _operation(update: Update) -> str:
    if update.nodegroup is not None:
        return "update_nodegroup_version"
    if update.addon is not None:
        return "update_addon"
    return "update_cluster_version"
