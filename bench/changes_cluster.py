"""The cluster of ``bench/changes.py``, with three days of history, as the API server would list it.

400 Deployments of 25 pods (10,000 pods), 5 ReplicaSets each (2,000, revisions spread over 3 days, a few roll-backs
and restarts, templates with images, env, probes and the managedFields a real API server keeps), 1,000 ConfigMaps of
~4 KB, 200 Secrets (Helm release secrets and service-account tokens among them), 300 nodes, 100 HPAs, StatefulSets
and DaemonSets with their ControllerRevisions, CronJobs, and 2,070 events. ``bench.kubeapi.StaticApi(changes=True)``
serves it.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from tests.support.cluster_seed import iso

Obj = dict[str, Any]

DEPLOYMENTS, REPLICAS, REVISIONS = 400, 25, 5  # 10,000 pods, 2,000 ReplicaSets
CONFIGMAPS, OPAQUE, TOKENS, RELEASES, RELEASE_REVISIONS = 1_000, 140, 30, 10, 3  # 200 Secrets in all
NODES, HPAS, STATEFULSETS, DAEMONSETS, CRONJOBS = 300, 100, 20, 5, 40
BACKOFFS, RESCALES, NODE_EVENTS = 2_000, 60, 10
NAMESPACES = 50
DAY = 86_400
SPREAD = 3 * DAY  # the history's times: over the last 3 days
EDGE = 1_800  # nothing this close to 24 h ago, so each run counts the same changes however long it takes
PODS = DEPLOYMENTS * REPLICAS


def digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


SAFE = "bcdfghjklmnpqrstvwxz2456789"  # the letters of the controllers' name suffixes


def suffix(length: int, *parts: object) -> str:
    """A ``pod-template-hash`` or a pod's suffix, as the controllers spell them."""
    number = int(digest(*parts), 16)
    return "".join(SAFE[number // len(SAFE) ** k % len(SAFE)] for k in range(length))


def spread(i: int, period: int = SPREAD) -> int:
    """A deterministic offset in seconds in [0, period), away from the 24 h edge."""
    offset = (i * 7_919 + 12_347) % period
    return offset + 2 * EDGE if abs(offset - DAY) < EDGE else offset


def fields_of(value: Any) -> Any:
    """``fieldsV1`` of a value as the API server writes it (``f:`` keys, ``k:{"name":…}`` for named list items)."""
    if isinstance(value, dict):
        return {f"f:{k}": fields_of(v) for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value):
        return {f'k:{{"name":"{v["name"]}"}}': {".": {}, **fields_of(v)} for v in value}
    return {}


def managed(manager: str, at: datetime, fields: Any, subresource: str | None = None) -> Obj:
    entry: Obj = {
        "manager": manager,
        "operation": "Update",
        "apiVersion": "v1",
        "time": iso(at),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }
    return entry | ({"subresource": subresource} if subresource else {})


def meta(name: str, namespace: str | None, created: datetime, **extra: Any) -> Obj:
    out: Obj = {
        "name": name,
        "uid": f"uid-{namespace or '-'}-{name}",
        "resourceVersion": str(int(digest(namespace, name)[:6], 16)),
        "creationTimestamp": iso(created),
    }
    return out | ({"namespace": namespace} if namespace else {}) | extra


# Workloads -----------------------------------------------------------------------------------------------------------
def workload_name(d: int) -> tuple[str, str]:
    return f"app-{d:03d}", f"team-{d % NAMESPACES:02d}"


def template(app: str, team: str, image: str, restarted: str | None = None) -> Obj:
    annotations = {"prometheus.io/scrape": "true", "prometheus.io/port": "9090"}
    if restarted:
        annotations["kubectl.kubernetes.io/restartedAt"] = restarted
    probe = {
        "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
        "periodSeconds": 10,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    env: list[Obj] = [{"name": f"SETTING_{k:02d}", "value": f"value-{k}-{app}"} for k in range(12)]
    env.append({"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": f"{app}-db", "key": "password"}}})
    app_container = {
        "name": "app",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": env,
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "readinessProbe": probe,
        "livenessProbe": probe,
        "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}, {"name": "tmp", "mountPath": "/tmp"}],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    sidecar = {
        "name": "envoy",
        "image": "envoyproxy/envoy:v1.29.1",
        "args": ["-c", "/etc/envoy/envoy.yaml"],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
        "volumeMounts": [{"name": "envoy", "mountPath": "/etc/envoy"}],
    }
    return {
        "metadata": {"labels": {"app": app, "team": team}, "annotations": annotations},
        "spec": {
            "containers": [app_container, sidecar],
            "volumes": [
                {"name": "config", "configMap": {"name": f"{app}-config"}},
                {"name": "envoy", "configMap": {"name": "envoy"}},
                {"name": "tmp", "emptyDir": {}},
            ],
            "serviceAccountName": app,
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "securityContext": {},
        },
    }


def revisions_of(d: int) -> list[tuple[int, int, int, int, str | None]]:
    """(revision, the template it runs, created and last written seconds ago, revision-history) of Deployment
    ``d``'s ReplicaSets: one every ~14 h; every 20th rolled back (its newest revision re-uses revision 3's
    ReplicaSet)."""
    phase = spread(d, 14 * 3_600) / (14 * 3_600)
    if 0.63 < phase < 0.73:  # its revision 4 would be at the 24 h edge
        phase += 0.12
    ago = [int((REVISIONS - r + phase) * 14 * 3_600) for r in range(1, REVISIONS + 1)]
    if d % 20 == 0:  # 1, 2, 4, 5 and 6 (= 3 again): 3's ReplicaSet moved up
        return [
            (1, 1, ago[0], ago[0], None),
            (2, 2, ago[1], ago[1], None),
            (4, 4, ago[3], ago[3], None),
            (5, 5, ago[4] + 600, ago[4] + 600, None),
            (6, 3, ago[2], ago[4], "3"),
        ]
    return [(r, r, ago[r - 1], ago[r - 1], None) for r in range(1, REVISIONS + 1)]


def replicaset(now: datetime, d: int, rev: tuple[int, int, int, int, str | None], newest: bool) -> Obj:
    revision, runs, ago, written_ago, history = rev
    app, team = workload_name(d)
    restart = d % 15 == 1 and runs == REVISIONS
    image = f"registry.example.com/{team}/{app}:1.{runs - 1 if restart else runs}.0"
    pod_template = template(app, team, image, iso(now - timedelta(seconds=ago)) if restart else None)
    hashed = suffix(10, app, runs)
    pod_template["metadata"]["labels"]["pod-template-hash"] = hashed
    made = now - timedelta(seconds=ago)
    annotations = {
        "deployment.kubernetes.io/revision": str(revision),
        "deployment.kubernetes.io/desired-replicas": "25",
        "deployment.kubernetes.io/max-replicas": "32",
        "kubernetes.io/change-cause": f"deploy {image}",
    }
    if history:
        annotations["deployment.kubernetes.io/revision-history"] = history
    spec = {
        "replicas": REPLICAS if newest else 0,
        "template": pod_template,
        "selector": {"matchLabels": {"app": app, "pod-template-hash": hashed}},
    }
    owner = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": app,
        "uid": f"uid-{team}-{app}",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    written = now - timedelta(seconds=written_ago)
    fields = fields_of({"metadata": {"annotations": annotations, "labels": {}, "ownerReferences": {}}, "spec": spec})
    status = {"replicas": spec["replicas"], "readyReplicas": spec["replicas"], "observedGeneration": 2}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": meta(
            f"{app}-{hashed}",
            team,
            made,
            labels={"app": app, "team": team, "pod-template-hash": hashed},
            annotations=annotations,
            ownerReferences=[owner],
            managedFields=[
                managed("kube-controller-manager", written, fields),
                managed("kube-controller-manager", written, fields_of({"status": status}), "status"),
            ],
        ),
        "spec": spec,
        "status": status,
    }


def deployment(now: datetime, d: int, current: Obj) -> Obj:
    app, team = workload_name(d)
    rs_meta = current["metadata"]
    written = max(datetime.fromisoformat(m["time"]) for m in rs_meta["managedFields"])
    pod_template = copy.deepcopy(current["spec"]["template"])
    del pod_template["metadata"]["labels"]["pod-template-hash"]
    spec = {
        "replicas": REPLICAS,
        "selector": {"matchLabels": {"app": app}},
        "template": pod_template,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }
    stuck = d % 50 == 7
    progressing = {
        "type": "Progressing",
        "status": "False" if stuck else "True",
        "reason": "ProgressDeadlineExceeded" if stuck else "NewReplicaSetAvailable",
    }
    status = {
        "replicas": REPLICAS,
        "readyReplicas": REPLICAS,
        "updatedReplicas": REPLICAS,
        "observedGeneration": 6,
        "conditions": [{"type": "Available", "status": "True"}, progressing],
    }
    annotations = {"deployment.kubernetes.io/revision": rs_meta["annotations"]["deployment.kubernetes.io/revision"]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(
            app,
            team,
            now - timedelta(days=30),
            labels={"app": app, "team": team},
            annotations=annotations,
            managedFields=[
                managed("argocd", written, fields_of({"spec": spec})),
                managed("kube-controller-manager", written, fields_of({"status": {}}), "status"),
            ],
        ),
        "spec": spec,
        "status": status,
    }


def pods_of(rs: Obj) -> Iterator[Obj]:
    rs_meta = rs["metadata"]
    owner = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": rs_meta["name"],
        "uid": rs_meta["uid"],
        "controller": True,
    }
    for k in range(REPLICAS):
        spec = {**rs["spec"]["template"]["spec"], "nodeName": f"ip-10-0-{k % 30}-{k * 7 % 250}"}
        statuses = [
            {
                "name": c["name"],
                "image": c["image"],
                "ready": True,
                "restartCount": 0,
                "imageID": "",
                "state": {"running": {"startedAt": rs_meta["creationTimestamp"]}},
            }
            for c in spec["containers"]
        ]
        yield {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": meta(
                f"{rs_meta['name']}-{suffix(5, rs_meta['name'], k)}",
                rs_meta["namespace"],
                datetime.fromisoformat(rs_meta["creationTimestamp"]),
                labels=rs["spec"]["template"]["metadata"]["labels"],
                ownerReferences=[owner],
            ),
            "spec": spec,
            "status": {"phase": "Running", "containerStatuses": statuses, "podIP": f"10.1.{k}.{k * 3 % 250}"},
        }


def deployments(now: datetime) -> tuple[list[Obj], list[Obj], list[Obj]]:
    """(Deployments, ReplicaSets, pods)."""
    deps: list[Obj] = []
    sets: list[Obj] = []
    pods: list[Obj] = []
    for d in range(DEPLOYMENTS):
        revs = revisions_of(d)
        made = [replicaset(now, d, rev, rev is revs[-1]) for rev in revs]
        sets += made
        deps.append(deployment(now, d, made[-1]))
        pods += pods_of(made[-1])
    return deps, sets, pods


def controller_revisions(now: datetime) -> tuple[list[Obj], list[Obj], list[Obj]]:
    """(StatefulSets, DaemonSets, ControllerRevisions): 3 revisions each, over the 3 days."""
    sets: list[Obj] = []
    daemons: list[Obj] = []
    revisions: list[Obj] = []
    for i in range(STATEFULSETS + DAEMONSETS):
        kind, plural = ("StatefulSet", sets) if i < STATEFULSETS else ("DaemonSet", daemons)
        name, team = (
            (f"db-{i:02d}", f"team-{i % NAMESPACES:02d}") if i < STATEFULSETS else (f"agent-{i}", "kube-system")
        )
        spec = {"selector": {"matchLabels": {"app": name}}, "template": template(name, team, f"{name}:3.0.0")}
        plural.append(
            {
                "apiVersion": "apps/v1",
                "kind": kind,
                "spec": spec,
                "status": {},
                "metadata": meta(name, team, now - timedelta(days=40), labels={"app": name}),
            }
        )
        for r in range(1, 4):
            made = now - timedelta(seconds=(3 - r) * DAY + spread(i * 3 + r, DAY))
            owner = {
                "apiVersion": "apps/v1",
                "kind": kind,
                "name": name,
                "uid": f"uid-{team}-{name}",
                "controller": True,
            }
            data = {"spec": {"template": template(name, team, f"registry.example.com/{name}:3.{r}.0")}}
            revisions.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ControllerRevision",
                    "revision": r,
                    "data": data,
                    "metadata": meta(
                        f"{name}-{digest(name, r)[:10]}",
                        team,
                        made,
                        ownerReferences=[owner],
                        labels={"app": name, "controller-revision-hash": digest(name, r)[:10]},
                        managedFields=[managed("kube-controller-manager", made, fields_of({"data": {}}))],
                    ),
                }
            )
    return sets, daemons, revisions


CONFIG_TEXT = textwrap.dedent(
    """\
    server:
      port: 8080
      timeouts: {read: 5s, write: 10s, idle: 120s}
    upstreams:
    """
)


def configmap(now: datetime, i: int) -> Obj:
    """``{app}-config`` (the first 400) or a shared one, ~4 KB of data; half changed after they were made."""
    name = f"{workload_name(i)[0]}-config" if i < DEPLOYMENTS else f"shared-{i:04d}"
    namespace = f"team-{i % NAMESPACES:02d}"
    data = {
        f"{key}.yaml": CONFIG_TEXT
        + "".join(f"  - {{name: svc-{k}, url: http://svc-{k}.{namespace}:8080}}\n" for k in range(18))
        for key in ("app", "routes", "limits", "flags")
    }
    changed = i % 2 == 0
    made = now - timedelta(seconds=SPREAD + spread(i, 7 * DAY)) if changed else now - timedelta(seconds=spread(i))
    creator = ("helm", "argocd", "kubectl-client-side-apply")[i % 3]
    entries = [managed(creator, made, fields_of({"data": data, "metadata": {"labels": {}}}))]
    if changed:
        entries.append(
            managed(
                ("argocd", "kubectl-edit", "config-sync")[i % 3],
                now - timedelta(seconds=spread(i)),
                fields_of({"data": {"flags.yaml": ""}}),
            )
        )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": data,
        "metadata": meta(name, namespace, made, labels={"team": namespace}, managedFields=entries),
    }


def release_data(doc: Obj) -> str:
    """Helm's real encoding: gzip of the JSON, base64 (Helm's), then base64 again (Kubernetes' ``data``)."""
    return base64.b64encode(base64.b64encode(gzip.compress(json.dumps(doc).encode()))).decode()


def secrets(now: datetime) -> list[Obj]:
    """Opaque Secrets (half changed in the 3 days), service-account tokens, and Helm release secrets."""
    out = []
    for i in range(OPAQUE):
        made = now - timedelta(seconds=SPREAD + spread(i, 5 * DAY)) if i % 2 else now - timedelta(seconds=spread(i))
        entries = [managed("external-secrets", made, fields_of({"data": {"password": ""}}))]
        if i % 2:
            entries.append(managed("external-secrets", now - timedelta(seconds=spread(i * 5)), {"f:data": {}}))
        data = {"password": base64.b64encode(digest("pw", i).encode()).decode(), "username": "YXBw"}
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "data": data,
                "metadata": meta(
                    f"{workload_name(i)[0]}-db", f"team-{i % NAMESPACES:02d}", made, managedFields=entries
                ),
            }
        )
    for i in range(TOKENS):
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/service-account-token",
                "data": {"token": base64.b64encode(digest("token", i).encode()).decode()},
                "metadata": meta(f"builder-token-{i}", f"team-{i:02d}", now - timedelta(seconds=spread(i))),
            }
        )
    return out + [release(now, i, version) for i in range(RELEASES) for version in range(1, RELEASE_REVISIONS + 1)]


def release(now: datetime, i: int, version: int) -> Obj:
    """A Helm release secret in Helm's own encoding (chart-3's last revision failed)."""
    deployed = now - timedelta(seconds=(RELEASE_REVISIONS - version) * DAY + spread(i * 7 + version, DAY))
    status = "deployed" if version == RELEASE_REVISIONS else "superseded"
    doc = {
        "name": f"chart-{i}",
        "namespace": f"team-{i:02d}",
        "version": version,
        "info": {
            "status": "failed" if i == 3 and version == RELEASE_REVISIONS else status,
            "last_deployed": iso(deployed),
            "first_deployed": iso(now - timedelta(days=90)),
        },
        "chart": {"metadata": {"name": f"chart-{i}", "version": f"1.{version}.0", "appVersion": f"2.{version}"}},
        "config": {"replicas": 3, "image": {"tag": f"2.{version}"}},
        "manifest": "---\n" + "kind: Deployment\nmetadata: {name: x}\n" * 60,
    }
    labels = {"owner": "helm", "name": f"chart-{i}", "version": str(version), "status": status}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "data": {"release": release_data(doc)},
        "metadata": meta(f"sh.helm.release.v1.chart-{i}.v{version}", f"team-{i:02d}", deployed, labels=labels),
    }


def nodes(now: datetime) -> list[Obj]:
    """300 nodes over 30 days (every 20th joined in the last day), 5 cordoned in the last day."""
    out = []
    images = [
        {"names": [f"registry.example.com/team-{k:02d}/app@sha256:{digest('img', k)}"], "sizeBytes": 10**8}
        for k in range(30)
    ]
    for i in range(NODES):
        name = f"ip-10-0-{i // 250}-{i % 250}"
        made = now - timedelta(seconds=spread(i, DAY - EDGE) if i % 20 == 0 else DAY + EDGE + spread(i, 29 * DAY))
        labels = {
            "node.kubernetes.io/instance-type": ("m6i.2xlarge", "c6i.4xlarge")[i % 2],
            "topology.kubernetes.io/zone": f"eu-west-1{'abc'[i % 3]}",
            "kubernetes.io/hostname": name,
        }
        spec: Obj = {"providerID": f"aws:///eu-west-1a/i-{digest('node', i)[:17]}"}
        entries = [managed("kubelet", made, fields_of({"metadata": {"labels": labels}}))]
        if i % 60 == 5:
            cordoned = now - timedelta(seconds=spread(i, DAY - EDGE))
            spec |= {
                "unschedulable": True,
                "taints": [
                    {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": iso(cordoned)}
                ],
            }
            entries.append(managed("kubectl-cordon", cordoned, {"f:spec": {"f:unschedulable": {}}}))
        status = {
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "images": images,
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            "nodeInfo": {"kubeletVersion": "v1.30.4"},
        }
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "spec": spec,
                "status": status,
                "metadata": meta(name, None, made, labels=labels, managedFields=entries),
            }
        )
    return out


def hpas(now: datetime) -> list[Obj]:
    out = []
    for i in range(HPAS):
        app, team = workload_name(i)
        made = now - timedelta(days=20)
        spec = {
            "minReplicas": 2 + i % 3,
            "maxReplicas": 30,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        }
        entries = [
            managed(
                "argocd", now - timedelta(seconds=spread(i * 13)) if i % 3 == 0 else made, fields_of({"spec": spec})
            ),
            managed("kube-controller-manager", now, fields_of({"status": {}}), "status"),
        ]
        out.append(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "spec": spec,
                "status": {"currentReplicas": 25, "desiredReplicas": 25},
                "metadata": meta(f"{app}", team, made, managedFields=entries),
            }
        )
    return out


def cronjobs(now: datetime) -> list[Obj]:
    out = []
    for i in range(CRONJOBS):
        suspended = i % 10 == 0
        made = now - timedelta(days=60)
        entries = [
            managed(
                "argocd",
                now - timedelta(seconds=spread(i * 17)) if suspended else made,
                fields_of({"spec": {"suspend": True, "schedule": ""}}),
            )
        ]
        out.append(
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "spec": {"schedule": "0 * * * *", "suspend": suspended, "jobTemplate": {"spec": {}}},
                "metadata": meta(f"report-{i:02d}", f"team-{i % NAMESPACES:02d}", made, managedFields=entries),
            }
        )
    return out


def event(name: str, namespace: str, involved: tuple[str, str], reason: str, message: str, *, at: datetime) -> Obj:
    kind, involved_name = involved
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "type": "Warning" if reason == "BackOff" else "Normal",
        "metadata": meta(name, namespace, at),
        "reason": reason,
        "message": message,
        "involvedObject": {"kind": kind, "name": involved_name, "namespace": namespace},
        "firstTimestamp": iso(at),
        "lastTimestamp": iso(at),
        "count": 1,
    }


def events(now: datetime, pods: list[Obj]) -> list[Obj]:
    """Pods' BackOff warnings (noise the field selectors leave out), HPAs' rescales and nodes removed, in the last
    hour (events live about an hour)."""
    out = []
    for i in range(BACKOFFS):
        pod = pods[i * 7 % len(pods)]["metadata"]
        out.append(
            event(
                f"ev-{i}",
                pod["namespace"],
                ("Pod", pod["name"]),
                "BackOff",
                "Back-off restarting failed container app",
                at=now - timedelta(seconds=i % 3_000),
            )
        )
    for i in range(RESCALES):
        app, team = workload_name(i % HPAS)
        message = f"New size: {5 + i % 20}; reason: cpu resource utilization (percentage of request) above target"
        out.append(
            event(
                f"{app}.rescale-{i}",
                team,
                ("HorizontalPodAutoscaler", app),
                "SuccessfulRescale",
                message,
                at=now - timedelta(seconds=i * 53 % 3_000),
            )
        )
    for i in range(NODE_EVENTS):
        out.append(
            event(
                f"node-removed-{i}",
                "default",
                ("Node", f"ip-10-0-9-{i}"),
                "RemovingNode",
                f"Node ip-10-0-9-{i} event: Removing Node from Controller",
                at=now - timedelta(minutes=i * 4),
            )
        )
    return out


def cluster(now: datetime) -> dict[str, list[Obj]]:
    """Every object, by the path that lists it cluster-wide."""
    deps, sets, pods = deployments(now)
    stateful, daemons, revisions = controller_revisions(now)
    return {
        "/apis/apps/v1/deployments": deps,
        "/apis/apps/v1/replicasets": sets,
        "/apis/apps/v1/statefulsets": stateful,
        "/apis/apps/v1/daemonsets": daemons,
        "/apis/apps/v1/controllerrevisions": revisions,
        "/api/v1/pods": pods,
        "/api/v1/configmaps": [configmap(now, i) for i in range(CONFIGMAPS)],
        "/api/v1/secrets": secrets(now),
        "/api/v1/nodes": nodes(now),
        "/api/v1/events": events(now, pods),
        "/apis/autoscaling/v2/horizontalpodautoscalers": hpas(now),
        "/apis/batch/v1/cronjobs": cronjobs(now),
        "/api/v1/namespaces": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(f"team-{i:02d}", None, now - timedelta(days=90))}
            for i in range(NAMESPACES)
        ],
    }
