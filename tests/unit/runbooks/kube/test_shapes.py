"""The typed shapes the checks read (runbooks.kube.shapes): complete objects as the API server sends them decode into
them with every field the checks read found (a misspelt field would silently read as absent), unknown and null
fields decode fine, and the checks give the same answers on decoded pages as on the plain dicts."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from runbooks.checklist import checks as health
from runbooks.checklist import security
from runbooks.kube import shapes
from tests.support.cluster_seed import seed

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def page(items: list[dict[str, Any]], kind: type[shapes.Shape], token: str | None = None) -> Any:
    """A list as the API server answers it, decoded as Cluster.list_typed decodes it."""
    body = {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "7", **({"continue": token} if token else {})},
            "items": items}  # fmt: skip
    return msgspec.json.Decoder(shapes.Page[kind]).decode(json.dumps(body).encode())  # type: ignore[valid-type]


# Complete objects, as `kubectl get -o json` shows them (managedFields and all) ----------------------------------
def crashing_pod() -> dict[str, Any]:
    """A Deployment's pod whose app container crash-loops after an OOM kill, with an init container waiting too."""
    finished = iso(NOW - timedelta(minutes=4))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "payments-7d9f8c6b5-x2x9q",
            "generateName": "payments-7d9f8c6b5-",
            "namespace": "production",
            "uid": "0b1c6e0e-4a8e-4c7e-9a55-2f3f1f0c9d11",
            "resourceVersion": "123456",
            "creationTimestamp": "2026-11-25T08:00:00Z",
            "labels": {"app": "payments", "pod-template-hash": "7d9f8c6b5"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-25T07:59:00Z"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "payments-7d9f8c6b5",
                    "uid": "5e0c",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": [
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": "2026-11-25T08:00:00Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {}},
                }
            ],
        },
        "spec": {
            "securityContext": {"runAsUser": 0, "fsGroup": 2000, "seccompProfile": {"type": "RuntimeDefault"}},
            "initContainers": [
                {"name": "migrate", "image": "payments:2.4.2", "resources": {}, "securityContext": {"privileged": True}}
            ],
            "containers": [
                {
                    "name": "app",
                    "image": "payments:2.4.2",
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    "env": [{"name": "MODE", "value": "live"}],
                    "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
                    "securityContext": {
                        "allowPrivilegeEscalation": True,
                        "capabilities": {"add": ["NET_ADMIN", "CHOWN"], "drop": ["ALL"]},
                        "runAsNonRoot": False,
                        "readOnlyRootFilesystem": True,
                    },
                    "volumeMounts": [
                        {"name": "kube-api-access-abcde", "mountPath": "/var/run/secrets", "readOnly": True}
                    ],
                },
            ],
            "ephemeralContainers": [{"name": "debugger", "image": "busybox", "securityContext": {"runAsUser": 1000}}],
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "automountServiceAccountToken": False,
            "nodeName": "ip-10-0-1-23.ec2.internal",
            "hostNetwork": True,
            "hostPID": True,
            "hostIPC": True,
            "volumes": [
                {
                    "name": "kube-api-access-abcde",
                    "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]},
                },
                {"name": "docker", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
            ],
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}],
        },
        "status": {
            "phase": "Pending",
            "reason": "Evicted",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": finished},
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "ContainersNotReady",
                    "message": "containers with unready status: [app]",
                    "lastProbeTime": None,
                },
            ],
            "hostIP": "10.0.1.23",
            "podIP": "10.0.1.99",
            "startTime": "2026-11-25T08:00:01Z",
            "initContainerStatuses": [
                {
                    "name": "migrate",
                    "ready": False,
                    "restartCount": 3,
                    "image": "payments:2.4.2",
                    "imageID": "",
                    "state": {"waiting": {"reason": "CreateContainerConfigError", "message": "secret not found"}},
                    "lastState": {},
                }
            ],
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": False,
                    "started": False,
                    "restartCount": 14,
                    "image": "payments:2.4.2",
                    "imageID": "docker.io/payments@sha256:abc",
                    "containerID": "containerd://abc",
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting"}},
                    "lastState": {
                        "terminated": {
                            "exitCode": 137,
                            "reason": "OOMKilled",
                            "startedAt": iso(NOW - timedelta(minutes=9)),
                            "finishedAt": finished,
                            "containerID": "containerd://abc",
                        }
                    },
                }
            ],
            "qosClass": "Burstable",
        },
    }


def node() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "ip-10-0-1-23.ec2.internal",
            "uid": "n1",
            "resourceVersion": "99",
            "creationTimestamp": "2026-11-01T00:00:00Z",
            "labels": {"kubernetes.io/hostname": "ip-10-0-1-23", "eks.amazonaws.com/nodegroup": "general"},
        },
        "spec": {
            "providerID": "aws:///eu-west-1a/i-0abc",
            "unschedulable": True,
            "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}],
        },
        "status": {
            "capacity": {"cpu": "2", "memory": "8010948Ki", "pods": "29"},
            "allocatable": {"cpu": "1930m", "memory": "7318724Ki", "pods": "29"},
            "conditions": [
                {
                    "type": "MemoryPressure",
                    "status": "False",
                    "reason": "KubeletHasSufficientMemory",
                    "message": "kubelet has sufficient memory available",
                    "lastHeartbeatTime": "2026-11-26T07:59:00Z",
                },
                {
                    "type": "DiskPressure",
                    "status": "True",
                    "reason": "KubeletHasDiskPressure",
                    "message": "kubelet has disk pressure",
                },
                {
                    "type": "PIDPressure",
                    "status": "False",
                    "reason": "KubeletHasSufficientPID",
                    "message": "enough PIDs",
                },
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "KubeletNotReady",
                    "message": "container runtime network not ready",
                },
            ],
            "addresses": [{"type": "InternalIP", "address": "10.0.1.23"}],
            "nodeInfo": {"kubeletVersion": "v1.30.4-eks-a737599", "osImage": "Amazon Linux 2"},
            "images": [{"names": ["payments:2.4.2"], "sizeBytes": 123}],
        },
    }


def event(**changes: Any) -> dict[str, Any]:
    """A core/v1 Warning event as the API server sends it: ``eventTime`` null (a kubelet's event)."""
    when = iso(NOW - timedelta(minutes=3))
    obj = {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {
            "name": "payments-7d9f8c6b5-x2x9q.17f",
            "namespace": "production",
            "uid": "e1",
            "resourceVersion": "5",
            "creationTimestamp": when,
            "managedFields": [{"manager": "kubelet", "operation": "Update"}],
        },
        "involvedObject": {
            "kind": "Pod",
            "namespace": "production",
            "name": "payments-7d9f8c6b5-x2x9q",
            "uid": "0b1c",
            "apiVersion": "v1",
            "resourceVersion": "1",
            "fieldPath": "spec.containers{app}",
        },
        "reason": "BackOff",
        "message": "Back-off restarting failed container app in pod payments",
        "source": {"component": "kubelet", "host": "ip-10-0-1-23"},
        "firstTimestamp": when,
        "lastTimestamp": when,
        "count": 42,
        "type": "Warning",
        "eventTime": None,
        "reportingComponent": "kubelet",
        "reportingInstance": "ip-10-0-1-23",
    }
    obj.update(changes)
    return obj


def unset_fields(value: Any, where: str = "") -> list[str]:
    """Every field of a decoded shape (recursively, lists included) still None: the complete object should set them
    all, so a None is a field the shape spells otherwise than the API."""
    if isinstance(value, list):
        return [f for i, item in enumerate(value) for f in unset_fields(item, f"{where}[{i}]")]
    if not isinstance(value, msgspec.Struct):
        return []
    missing = []
    for name in value.__struct_fields__:
        field = getattr(value, name)
        missing += [f"{where}.{name}"] if field is None else unset_fields(field, f"{where}.{name}")
    return missing


# Every field named in a shape is found in a complete object -------------------------------------------------------
def test_every_field_of_the_pod_shapes_is_found_in_a_complete_pod() -> None:
    (pod,) = page([crashing_pod()], shapes.Pod).items
    allowed = {  # what this pod does not have, each shown present elsewhere
        ".status.initContainerStatuses[0].state.terminated",  # waiting, not terminated
        ".status.initContainerStatuses[0].lastState.waiting",
        ".status.initContainerStatuses[0].lastState.terminated",  # lastState {}: no termination yet
        ".status.containerStatuses[0].state.terminated",
        ".status.containerStatuses[0].lastState.waiting",
        ".status.conditions[0].reason",
        ".status.conditions[0].message",
    }
    assert set(unset_fields(pod)) == allowed
    assert pod.status is not None and pod.status.containerStatuses is not None
    app = pod.status.containerStatuses[0]
    assert app.lastState is not None and app.lastState.terminated is not None
    assert unset_fields(app.lastState.terminated) == []
    (secured,) = page([crashing_pod()], shapes.SecuredPod).items
    allowed_secured = {
        # a pod's securityContext has no privileged, allowPrivilegeEscalation, capabilities or runAsNonRoot here
        ".spec.securityContext.privileged", ".spec.securityContext.allowPrivilegeEscalation",
        ".spec.securityContext.capabilities", ".spec.securityContext.runAsNonRoot",
        # each container sets only some of its context
        ".spec.initContainers[0].securityContext.allowPrivilegeEscalation",
        ".spec.initContainers[0].securityContext.capabilities", ".spec.initContainers[0].securityContext.runAsUser",
        ".spec.initContainers[0].securityContext.runAsNonRoot",
        ".spec.containers[0].securityContext.privileged", ".spec.containers[0].securityContext.runAsUser",
        ".spec.ephemeralContainers[0].securityContext.privileged",
        ".spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation",
        ".spec.ephemeralContainers[0].securityContext.capabilities",
        ".spec.ephemeralContainers[0].securityContext.runAsNonRoot",
        ".spec.volumes[0].hostPath",  # a projected volume
    }  # fmt: skip
    assert set(unset_fields(secured)) == allowed_secured
    assert secured.metadata is not None and secured.metadata.labels is not None
    assert secured.metadata.labels.pod_template_hash == "7d9f8c6b5"


def test_every_field_of_the_node_and_event_shapes_is_found_in_complete_ones() -> None:
    (decoded,) = page([node()], shapes.Node).items
    assert unset_fields(decoded) == [".metadata.namespace"]  # cluster-scoped
    (warning,) = page([event()], shapes.Event).items
    assert unset_fields(warning) == [".eventTime"]  # null, as the API server sends a kubelet's event
    (new_style,) = page([event(eventTime="2026-11-26T07:57:00.123456Z", lastTimestamp=None)], shapes.Event).items
    assert new_style.eventTime == "2026-11-26T07:57:00.123456Z" and new_style.lastTimestamp is None


def test_a_page_carries_its_continue_token_and_null_or_missing_fields_decode() -> None:
    decoded = page([{"metadata": {"name": "bare"}}, {"metadata": None, "status": None, "spec": None}], shapes.Pod, "t1")
    assert decoded.metadata is not None and decoded.metadata.next == "t1"
    assert [shapes.name_of(p.metadata) for p in decoded.items] == [(None, "bare"), (None, "?")]
    empty = msgspec.json.decode(b'{"kind": "List", "items": null, "metadata": {}}', type=shapes.Page[shapes.Node])
    assert empty.items is None and empty.metadata is not None and empty.metadata.next is None
    with pytest.raises(ValueError):  # not the API's schema: said, never read as absent
        page([{"status": {"containerStatuses": [{"restartCount": "many"}]}}], shapes.Pod)


# The checks on decoded pages: the same answers as on the plain dicts ----------------------------------------------
def test_the_health_checks_on_decoded_pages_find_what_they_find_on_dicts() -> None:
    objects, expected, _ = seed(NOW)
    pods = page(objects["v1/pods"], shapes.Pod).items
    typed = {
        "nodes": health.check_nodes(page(objects["v1/nodes"], shapes.Node).items),
        "pods": health.check_pods(pods),
        "restarts": health.check_restarts(pods, NOW),
        "events": health.check_events(page(objects["v1/events"], shapes.Event).items, NOW),
    }
    plain = {
        "nodes": health.check_nodes(objects["v1/nodes"]),
        "pods": health.check_pods(objects["v1/pods"]),
        "restarts": health.check_restarts(objects["v1/pods"], NOW),
        "events": health.check_events(objects["v1/events"], NOW),
    }
    assert typed == plain
    for key, section in typed.items():
        assert {f.ref for f in section.findings} == expected[key], key
    both = health.check_pod_sections(iter(pods), NOW)
    assert both == (typed["pods"], typed["restarts"])


def test_a_complete_pod_node_and_event_read_in_full_detail() -> None:
    (pod,) = page([crashing_pod()], shapes.Pod).items
    problem = health.pod_problem(pod)
    assert problem is not None and problem.ref == "production/payments-7d9f8c6b5-x2x9q" and problem.rank == 3
    assert problem.why == (
        "app: CrashLoopBackOff, 14 restarts, last exit: OOMKilled (code 137); "
        "migrate: CreateContainerConfigError, 3 restarts"
    )
    (restart,) = health.pod_restarts(pod, NOW)
    assert restart.why == "app: restarted (14 total), last 4 min ago: OOMKilled (exit 137)" and restart.rank == 2
    calm = crashing_pod()
    for status in calm["status"]["containerStatuses"] + calm["status"]["initContainerStatuses"]:
        status["state"] = {"running": {"startedAt": "2026-11-25T08:00:02Z"}}
    (pending,) = page([calm], shapes.Pod).items
    evicted = health.pod_problem(pending)
    assert evicted is not None and evicted.why == "Pending (Evicted)" and evicted.rank == 2
    del calm["status"]["reason"]
    (pending,) = page([calm], shapes.Pod).items
    assert health.pod_problem(pending) == health.pod_problem(calm)
    assert "ContainersNotReady" in str(health.pod_problem(calm))  # the first False condition's reason

    nodes = health.check_nodes(page([node()], shapes.Node).items)
    assert [(f.why, f.rank) for f in nodes.findings] == [
        ("NotReady (KubeletNotReady)", 3),
        ("DiskPressure", 2),
        ("cordoned (unschedulable)", 1),
    ]
    events = [event(), event(count=None, message="x" * 300), event(type="Normal"),
              event(lastTimestamp=None, eventTime=None, metadata={"creationTimestamp": iso(NOW - timedelta(hours=2))})]  # fmt: skip
    section = health.check_events(page(events, shapes.Event).items, NOW)
    (group,) = section.findings
    assert group.ref == "production/pod/payments-7d9f8c6b5-x2x9q"
    assert group.why == "BackOff ×43: " + "x" * 160
    assert section == health.check_events(events, NOW)


def test_the_security_checks_on_a_decoded_complete_pod() -> None:
    (pod,) = page([crashing_pod()], shapes.SecuredPod).items
    found = security.check_pods([pod], {"production": True})
    assert [(f.check, f.name, f.why, f.rank) for f in found] == [
        ("privileged", "Deployment/payments", "init container migrate: privileged", 3),
        ("root", "Deployment/payments", "init container migrate: runAsUser 0 (set on the pod)", 2),
        ("privileged", "Deployment/payments", "app: allowPrivilegeEscalation", 2),
        ("privileged", "Deployment/payments", "app: adds capability NET_ADMIN", 3),
        ("root", "Deployment/payments", "app: runAsUser 0 (set on the pod)", 2),
        ("default-sa", "Deployment/payments", "uses the default ServiceAccount (token not mounted)", 1),
        ("host", "Deployment/payments", "hostNetwork, hostPID, hostIPC", 3),
        ("host", "Deployment/payments", "hostPath volume docker (/var/run/docker.sock)", 3),
    ]
    assert found == security.check_pods([crashing_pod()], {"production": True})
    assert security.workload(pod) == ("production", "Deployment/payments")
    finished = crashing_pod()
    finished["status"]["phase"] = "Succeeded"
    assert security.check_pods(page([finished], shapes.SecuredPod).items, {}) == []


def test_replicas_decoded_page_by_page_are_one_finding_per_workload() -> None:
    replicas = []
    for i in range(30):
        replica = copy.deepcopy(crashing_pod())
        replica["metadata"]["name"] = f"payments-7d9f8c6b5-{i:05d}"
        replicas.append(replica)
    pages = [page(replicas[:15], shapes.SecuredPod, "15"), page(replicas[15:], shapes.SecuredPod)]
    found = security.check_pods((p for pg in pages for p in pg.items), {})
    assert len(found) == 8 and {f.name for f in found} == {"Deployment/payments"}
    assert security.sort(found) == sorted(
        found, key=lambda f: (-f.rank, security.CHECK_ORDER[f.check], f.namespace or "", f.name, f.why)
    )
