"""The change feed's readers of everything but rollouts: ConfigMaps and Secrets (when and by whom, never their
content), Helm releases, HPAs and their scaling events, nodes (joined, cordoned, removed) and CronJobs suspended."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from runbooks.kube.history import helm
from runbooks.kube.history.fields import (
    CHANGED_AFTER,
    child,
    clip,
    created,
    created_or_changed,
    creator,
    event_time,
    managed,
    meta,
    utc,
)
from runbooks.kube.history.lists import AUTOSCALING, BATCH, CORE, Reads, Scope
from runbooks.kube.history.model import Change, Kind
from runbooks.kube.objects import Obj, parse_time

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
SA_SECRET_TYPE = "kubernetes.io/service-account-token"  # noqa: S105 - a Secret type, not a secret
NODE_REMOVED_REASONS = frozenset({"RemovingNode", "DeletingNode"})
RESCALE = "SuccessfulRescale"
HELM_SLACK = timedelta(minutes=30)  # a release secret created this far outside the range is not decoded
RESCALE_MESSAGE = re.compile(r"^New size: (\d+); reason: (.*)$", re.DOTALL)


def rescale_summary(message: str) -> str:
    """``New size: 8; reason: cpu resource utilization (percentage of request) above target`` →
    ``scaled to 8 (cpu above target)``; another message clipped as it is."""
    found = RESCALE_MESSAGE.match(message.strip())
    if not found:
        return clip(message or "scaled")
    reason = re.sub(r"\s*\([^)]*\)", "", found.group(2))
    reason = re.sub(r"\s+resource(\s+utilization)?\b", "", reason).strip()
    reason = reason[:1].lower() + reason[1:]
    return clip(f"scaled to {found.group(1)} ({reason})" if reason else f"scaled to {found.group(1)}")


# ConfigMaps, Secrets, Helm releases ----------------------------------------------------------------------------------
def _by_name(reads: Reads, scope: Scope, kind: Kind, title: str, **query: str) -> list[Change]:
    """ConfigMaps or Secrets changed in the range: by name, when and which manager, from a metadata-only list (no
    content is asked for, none is read)."""
    plural, word = title.lower(), title.removesuffix("s")
    out = []
    for item in reads.each(title, plural, scope.ns(CORE, plural), metadata_only=True, **query):
        if item.get("type") in (helm.RELEASE_TYPE, SA_SECRET_TYPE):  # a server that did not apply the selector
            continue
        metadata = meta(item)
        when = created_or_changed(metadata)
        if when is None or not scope.within(when[0]):
            continue
        at, changed, by = when
        out.append(
            Change(
                at=at,
                cluster=scope.cluster,
                kind=kind,
                namespace=metadata.get("namespace"),
                name=str(metadata.get("name")),
                summary=f"{word} changed" if changed else f"{word} created",
                by=by,
            )
        )
    return out


def read_configmaps(reads: Reads, scope: Scope) -> list[Change]:
    return _by_name(reads, scope, Kind.CONFIG, "ConfigMaps")


def read_secrets(reads: Reads, scope: Scope) -> list[Change]:
    """Secrets by name, when and by whom only: nothing else of a Secret is read into the feed (nor Helm's release
    secrets, nor service-account tokens)."""
    return _by_name(
        reads, scope, Kind.SECRET, "Secrets", fieldSelector=f"type!={helm.RELEASE_TYPE},type!={SA_SECRET_TYPE}"
    )


def read_helm(reads: Reads, scope: Scope) -> list[Change]:
    """Release secrets, each decoded only when it was created near the range (a revision's ``last_deployed`` is
    when its secret was written)."""
    out = []
    undecodable = 0
    for secret in reads.each("Helm releases", "secrets", scope.ns(CORE, "secrets"), labelSelector="owner=helm"):
        if secret.get("type") != helm.RELEASE_TYPE:
            continue
        metadata = meta(secret)
        made = created(metadata)
        if made is not None and not (scope.since - HELM_SLACK <= made <= scope.until + HELM_SLACK):
            continue
        encoded = child(secret, "data").get("release")
        if not isinstance(encoded, str):
            continue
        try:
            release = helm.decode(encoded)
        except helm.UndecodableRelease:
            undecodable += 1
            continue
        at = release.deployed or made
        if not scope.within(at):
            continue
        assert at is not None
        out.append(
            Change(
                at=at,
                cluster=scope.cluster,
                kind=Kind.HELM,
                namespace=metadata.get("namespace") or release.namespace,
                name=release.name,
                summary=release.summary(),
                by=release.chart_ref,
                revision=release.revision,
                failed=release.failed,
            )
        )
    if undecodable:
        reads.problems.append(f"Helm releases: {undecodable} release secret(s) could not be decoded")
    return out


# HPAs ----------------------------------------------------------------------------------------------------------------
def _target(spec: Obj) -> str | None:
    ref = child(spec, "scaleTargetRef")
    if not ref.get("kind") or not ref.get("name"):
        return None
    return f"{str(ref['kind']).lower()}/{ref['name']}"


def _hpa_change(hpa: Obj, scope: Scope, target: str | None) -> Change | None:
    """The HPA's newest change of its spec (or its creation), when in range."""
    metadata, spec = meta(hpa), child(hpa, "spec")
    made = created(metadata)
    entries = [m for m in managed(metadata) if m.owns_spec and not m.subresource]
    newest = max(entries, key=lambda m: m.time, default=None)
    changed = newest is not None and (made is None or newest.time > made + CHANGED_AFTER)
    at = newest.time if changed and newest else made
    if not scope.within(at):
        return None
    assert at is not None
    bounds = f"min {spec.get('minReplicas', 1)} max {spec.get('maxReplicas', '?')}"
    return Change(
        at=at,
        cluster=scope.cluster,
        kind=Kind.HPA,
        namespace=metadata.get("namespace"),
        name=str(metadata.get("name")),
        workload=target,
        summary=f"HPA {bounds}" if changed else f"HPA created, {bounds}",
        by=newest.manager if newest else None,
    )


def _rescales(reads: Reads, scope: Scope, targets: dict[tuple[str, str], str | None]) -> list[Change]:
    out = []
    selector = f"involvedObject.kind=HorizontalPodAutoscaler,reason={RESCALE}"
    for event in reads.each("HPA events", "events", scope.ns(CORE, "events"), fieldSelector=selector):
        involved = child(event, "involvedObject")
        if event.get("reason") != RESCALE or involved.get("kind") != "HorizontalPodAutoscaler":
            continue
        namespace = involved.get("namespace") or meta(event).get("namespace")
        name = str(involved.get("name"))
        target = targets.get((str(namespace), name))
        at = event_time(event)
        if not scope.targets(target) or not scope.within(at):
            continue
        assert at is not None
        out.append(
            Change(
                at=at,
                cluster=scope.cluster,
                kind=Kind.SCALED,
                namespace=namespace,
                name=name,
                workload=target,
                summary=rescale_summary(str(event.get("message") or "")),
            )
        )
    return out


def read_hpas(reads: Reads, scope: Scope, wanted: set[Kind]) -> list[Change]:
    out = []
    targets: dict[tuple[str, str], str | None] = {}
    for hpa in reads.each("HPAs", "horizontalpodautoscalers", scope.ns(AUTOSCALING, "horizontalpodautoscalers")):
        metadata = meta(hpa)
        target = targets[str(metadata.get("namespace")), str(metadata.get("name"))] = _target(child(hpa, "spec"))
        if Kind.HPA not in wanted or not scope.targets(target):
            continue
        change = _hpa_change(hpa, scope, target)
        if change is not None:
            out.append(change)
    if Kind.SCALED in wanted:
        out += _rescales(reads, scope, targets)
    return out


# Nodes ---------------------------------------------------------------------------------------------------------------
def _joined(node: Obj, scope: Scope) -> Change | None:
    metadata = meta(node)
    made = created(metadata)
    if not scope.within(made):
        return None
    assert made is not None
    instance = (metadata.get("labels") or {}).get("node.kubernetes.io/instance-type")
    return Change(
        at=made,
        cluster=scope.cluster,
        kind=Kind.NODE_JOINED,
        namespace=None,
        name=str(metadata.get("name")),
        summary=f"node joined ({instance})" if instance else "node joined",
        by=creator(managed(metadata)),
    )


def _cordoned(node: Obj, scope: Scope) -> Change | None:
    metadata, spec = meta(node), child(node, "spec")
    if spec.get("unschedulable") is not True:
        return None
    cordon = [m for m in managed(metadata, ("spec", "unschedulable")) if m.owns]
    by = max(cordon, key=lambda m: m.time).manager if cordon else None
    taints = [t for t in spec.get("taints") or [] if isinstance(t, dict)]
    taint = next((t for t in taints if t.get("key") == UNSCHEDULABLE_TAINT), {})
    at = utc(parse_time(taint.get("timeAdded"))) or max((m.time for m in cordon), default=None)
    if not scope.within(at):
        return None
    assert at is not None
    return Change(
        at=at,
        cluster=scope.cluster,
        kind=Kind.NODE_CORDONED,
        namespace=None,
        name=str(metadata.get("name")),
        summary="node cordoned",
        by=by,
    )


def _removed(reads: Reads, scope: Scope) -> list[Change]:
    """``RemovingNode`` / ``DeletingNode`` events, the newest of each node."""
    removed: dict[str, tuple[datetime, str]] = {}
    for event in reads.each("Node events", "events", f"{CORE}/events", fieldSelector="involvedObject.kind=Node"):
        involved = child(event, "involvedObject")
        at = event_time(event)
        if event.get("reason") not in NODE_REMOVED_REASONS or involved.get("kind") != "Node" or at is None:
            continue
        name = str(involved.get("name"))
        if scope.within(at) and (name not in removed or removed[name][0] < at):
            removed[name] = (at, str(event.get("reason")))
    return [
        Change(
            at=at,
            cluster=scope.cluster,
            kind=Kind.NODE_REMOVED,
            namespace=None,
            name=name,
            summary=f"node removed ({reason})",
        )
        for name, (at, reason) in removed.items()
    ]


def read_nodes(reads: Reads, scope: Scope, wanted: set[Kind]) -> list[Change]:
    out: list[Change] = []
    if wanted & {Kind.NODE_JOINED, Kind.NODE_CORDONED}:
        for node in reads.each("Nodes", "nodes", f"{CORE}/nodes"):
            joined = _joined(node, scope) if Kind.NODE_JOINED in wanted else None
            cordoned = _cordoned(node, scope) if Kind.NODE_CORDONED in wanted else None
            out += [change for change in (joined, cordoned) if change is not None]
    if Kind.NODE_REMOVED in wanted:
        out += _removed(reads, scope)
    return out


# CronJobs ------------------------------------------------------------------------------------------------------------
def read_cronjobs(reads: Reads, scope: Scope) -> list[Change]:
    out = []
    for cronjob in reads.each("CronJobs", "cronjobs", scope.ns(BATCH, "cronjobs"), fieldSelector=scope.named()):
        metadata = meta(cronjob)
        name = str(metadata.get("name"))
        if child(cronjob, "spec").get("suspend") is not True or not scope.selects("cronjob", name):
            continue
        owning = [m for m in managed(metadata, ("spec", "suspend")) if m.owns]
        newest = max(owning, key=lambda m: m.time, default=None)
        at = newest.time if newest else created(metadata)
        if not scope.within(at):
            continue
        assert at is not None
        out.append(
            Change(
                at=at,
                cluster=scope.cluster,
                kind=Kind.CRONJOB_SUSPENDED,
                namespace=metadata.get("namespace"),
                name=name,
                workload=f"cronjob/{name}",
                summary="CronJob suspended",
                by=newest.manager if newest else None,
            )
        )
    return out
