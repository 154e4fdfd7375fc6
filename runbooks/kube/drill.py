"""The Kubernetes side of a disaster-recovery drill: a Velero backup restored into a labelled scratch namespace
(Velero's ``namespaceMapping``), what was restored there read back, a restored Service probed through the API
server's service proxy, and the scratch namespace deleted. The source namespaces are only ever read (the backup
and its Schedule, never their objects); every write goes to a scratch namespace, to the Restore object in Velero's
namespace, or to the namespace collection. Synchronous: call it from a worker thread."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from runbooks.errors import Refused
from runbooks.kube import velero
from runbooks.kube.client import Cluster, path
from runbooks.kube.errors import API_ERRORS
from runbooks.kube.lean import ApiException
from runbooks.kube.objects import Obj, parse_time
from runbooks.kube.velero_objects import DONE, TERMINAL, BackupInfo, RestoreInfo, restore_info

DRILL_LABEL = "chatops.dev/dr-drill"  # the drill's id, on every scratch namespace and drill Restore
ATTEMPT = "chatops.dev/dr-drill-attempt"  # the attempt of that drill (a retried scheduled drill keeps its id)
STARTED = "chatops.dev/dr-drill-started"  # when the drill made it (ISO 8601): the sweep's age
MANAGED = {"app.kubernetes.io/managed-by": "chatops-bot"}
ISOLATION = "dr-drill-deny-egress"  # the NetworkPolicy in every scratch namespace
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
PREFIX = "dr-drill-"  # every scratch namespace's name (bot.dr.model names them)
# A scratch namespace found: name, drill id, attempt, made, a Restore still writing into it, unlabelled but mapped.
Found = tuple[str, str, str, datetime | None, bool, bool]


def refusal(name: str, *, labelled: bool, mapped: bool, sources: Collection[str]) -> str | None:
    """Why a namespace must not be deleted as a drill's (None: it may be): it needs the ``dr-drill-`` prefix, the
    drill's label (or to be the target of a drill's Restore: Velero made it), and must not be a source namespace of
    a configured Schedule."""
    if not name.startswith(PREFIX):
        return f"namespace {name} is not named {PREFIX}…"
    if not labelled and not mapped:
        return f"namespace {name} carries no drill label and no drill's Restore maps into it"
    if name in sources:
        return f"namespace {name} is a source namespace of a configured Velero Schedule"
    return None


def latest_completed(cluster: Cluster, velero_namespace: str, schedule: str) -> BackupInfo | None:
    """The Schedule's newest Completed backup (label ``velero.io/schedule-name``), or None."""
    return next((b for b in velero.backups(cluster, velero_namespace, schedule) if b.phase == DONE), None)


def sources(cluster: Cluster, velero_namespace: str, schedules: Collection[str]) -> set[str]:
    """The source namespaces of the configured Schedules (their templates'): never deleted as scratch."""
    found = velero.schedules(cluster, velero_namespace)
    return {ns for s in found if s.name in schedules for ns in s.namespaces if ns != "*"}


def namespace(cluster: Cluster, name: str) -> Obj | None:
    try:
        return cluster.get(path("/api/v1", None, "namespaces", name))
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _labels(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def is_scratch(obj: Obj) -> bool:
    return DRILL_LABEL in _labels(obj)


def _done(response: Any) -> int:
    """Read and release a raw response (the client asks without preloading): its status."""
    try:
        _ = response.data
    finally:
        response.release_conn()
    return int(response.status)


def create_scratch(cluster: Cluster, name: str, owner: tuple[str, str], started: datetime) -> None:
    """A new, labelled namespace for the drill; refused when a namespace of that name exists (a real one is never
    restored into, and a scratch one is another drill's)."""
    found = namespace(cluster, name)
    if found is not None:
        whose = "a previous drill's scratch namespace" if is_scratch(found) else "a namespace that is not the drill's"
        raise Refused(f"namespace {name} exists already ({whose}); nothing was restored into it")
    if not name.startswith(PREFIX):
        raise Refused(f"namespace {name} is not named {PREFIX}…; a drill restores only into its own")
    labels = {DRILL_LABEL: owner[0], ATTEMPT: owner[1], **MANAGED}
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels, "annotations": {STARTED: started.isoformat()}},
    }
    cluster.create("/api/v1/namespaces", body)


def isolate(cluster: Cluster, name: str, owner: tuple[str, str]) -> None:
    """The scratch namespace's egress denied but DNS, before anything is restored into it: restored workloads
    carry production's Secrets and config and must not reach production (the API server's service proxy still
    reaches the pods: that is ingress)."""
    labels = {DRILL_LABEL: owner[0], ATTEMPT: owner[1], **MANAGED}
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": ISOLATION, "namespace": name, "labels": labels},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": DNS_PORTS}]},
    }
    cluster.create(path("/apis/networking.k8s.io/v1", name, "networkpolicies"), policy)


def create_restore(
    cluster: Cluster,
    velero_namespace: str,
    name: str,
    backup: str,
    *,
    mapping: dict[str, str],
    owner: tuple[str, str],
    exclude: list[str],
) -> RestoreInfo:
    """A Restore of ``backup``'s mapped namespaces only, each into its scratch namespace, without ``exclude``d
    resources. One of that name made by this attempt already (a create that was answered late) is that Restore;
    another's is refused."""
    if not mapping or any(source == target for source, target in mapping.items()):
        raise Refused("a drill restores only into scratch namespaces, never into the source")
    labels = {DRILL_LABEL: owner[0], ATTEMPT: owner[1], **MANAGED}
    spec: dict[str, Any] = {
        "backupName": backup,
        "includedNamespaces": sorted(mapping),
        "namespaceMapping": dict(mapping),
        "restorePVs": True,
    }
    if exclude:
        spec["excludedResources"] = list(exclude)
    body = {"apiVersion": "velero.io/v1", "kind": "Restore", "spec": spec,
            "metadata": {"name": name, "namespace": velero_namespace, "labels": labels}}  # fmt: skip
    collection = path(velero.GROUP, velero_namespace, "restores")
    try:
        return restore_info(cluster.create(collection, body))
    except ApiException as exc:
        if exc.status != 409:
            raise
    found = cluster.get(f"{collection}/{name}")
    mine = _labels(found).get(ATTEMPT) == owner[1] and (found.get("spec") or {}).get("backupName") == backup
    if not mine:
        raise Refused(f"a Restore named {name} exists already (not this drill's); nothing was restored")
    return restore_info(found)


def restored(cluster: Cluster, scratch: str) -> tuple[list[Obj], list[Obj]]:
    """The scratch namespace's Deployments and PersistentVolumeClaims."""
    deployments = list(cluster.list_all(path("/apis/apps/v1", scratch, "deployments")))
    claims = list(cluster.list_all(path("/api/v1", scratch, "persistentvolumeclaims")))
    return deployments, claims


def probe(cluster: Cluster, scratch: str, service: str, port: int | str | None, url_path: str) -> int:
    """The status a restored Service answers ``url_path`` with, through the API server's service proxy (0: no
    answer). The names are DNS labels and the path is checked by the config, so the proxy path is written as is
    (``name:port``, the colon unquoted)."""
    target = f"{service}:{port}" if port is not None else service
    resource = f"{path('/api/v1', scratch, 'services')}/{target}/proxy{url_path}"
    try:
        return _done(cluster.call(resource, accept="*/*", timeout=10.0))
    except ApiException as exc:
        return int(exc.status or 0)
    except API_ERRORS:
        return 0


def delete_scratch(cluster: Cluster, name: str, *, sources: Collection[str], mapped: bool = False) -> bool:
    """Delete a scratch namespace (and so everything restored into it): only one named ``dr-drill-…``, labelled
    by the drill (or, ``mapped``, the target of a drill's Restore), and no configured Schedule's source. False when
    it is gone already or being deleted (Terminating: the API server answers its DELETE 409)."""
    found = namespace(cluster, name)
    if found is None or (found.get("metadata") or {}).get("deletionTimestamp"):
        return False
    refused = refusal(name, labelled=is_scratch(found), mapped=mapped, sources=sources)
    if refused is not None:
        raise Refused(f"{refused}; it was left alone")
    try:
        _done(cluster.call(path("/api/v1", None, "namespaces", name), "DELETE"))
    except ApiException as exc:
        if exc.status in (404, 409):
            return False
        raise
    return True


def restore_phase(cluster: Cluster, velero_namespace: str, name: str) -> str | None:
    """The Restore's phase (None: there is no such Restore)."""
    try:
        return velero.restore(cluster, velero_namespace, name).phase
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _restores(cluster: Cluster, velero_namespace: str) -> list[Obj]:
    listed = cluster.list_all(path(velero.GROUP, velero_namespace, "restores"), labelSelector=DRILL_LABEL)
    return [r for r in listed if is_scratch(r)]  # the selector again: not every API (or stand-in) applies it


def _targets(cluster: Cluster, velero_namespace: str) -> tuple[dict[str, tuple[str, str, datetime | None]], set[str]]:
    """The namespaces the drills' Restores map into (whose drill and attempt, when the Restore was made), and those
    a Restore still writes into."""
    targets: dict[str, tuple[str, str, datetime | None]] = {}
    busy: set[str] = set()
    for obj in _restores(cluster, velero_namespace):
        labels, meta = _labels(obj), obj.get("metadata") or {}
        phase = (obj.get("status") or {}).get("phase") or "New"
        for target in ((obj.get("spec") or {}).get("namespaceMapping") or {}).values():
            made = parse_time(meta.get("creationTimestamp"))
            targets[str(target)] = (labels[DRILL_LABEL], labels.get(ATTEMPT, ""), made)
            if phase not in TERMINAL:
                busy.add(str(target))
    return targets, busy


def scratch_namespaces(cluster: Cluster, velero_namespace: str) -> list[Found]:
    """Every scratch namespace a drill made, by its label, and every ``dr-drill-…`` namespace a drill's Restore
    maps into (Velero makes one a Restore still writes into, without the label, when it was deleted meanwhile):
    whose drill and attempt, when made (the annotation, else its creation), and whether a Restore is still busy."""
    targets, busy = _targets(cluster, velero_namespace)
    out: list[Found] = []
    for obj in cluster.list_all("/api/v1/namespaces"):
        meta: dict[str, Any] = obj.get("metadata") or {}
        name, labels = str(meta.get("name")), _labels(obj)
        if meta.get("deletionTimestamp"):  # being deleted already
            continue
        if DRILL_LABEL in labels:
            made = parse_time((meta.get("annotations") or {}).get(STARTED)) or parse_time(meta.get("creationTimestamp"))
            out.append((name, labels[DRILL_LABEL], labels.get(ATTEMPT, ""), made, name in busy, False))
        elif name in targets and name.startswith(PREFIX):
            drill, attempt, made = targets[name]
            out.append((name, drill, attempt, made, name in busy, True))
    return out
