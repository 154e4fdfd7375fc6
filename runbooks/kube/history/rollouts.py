"""Rollouts in the change feed: Deployments' ReplicaSets and StatefulSets' and DaemonSets' ControllerRevisions read
as revisions (:class:`Rev`), and each revision present in the range one change, its images compared with the
revision before it (roll-backs, restarts and stuck rollouts said as such)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from runbooks.kube.deployment import APPS, RESTARTED_AT
from runbooks.kube.history.fields import (
    CHANGED_AFTER,
    CONTROLLER_MANAGER,
    Managed,
    child,
    clip,
    created,
    creator,
    managed,
    meta,
    owner,
)
from runbooks.kube.history.lists import Reads, Scope
from runbooks.kube.history.model import Change, Kind
from runbooks.kube.objects import Obj, conditions
from runbooks.kube.rollout import CHANGE_CAUSE, HASH_LABEL, REVISION

REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
CONTROLLER_HASH = "controller-revision-hash"
BY_WINDOW = timedelta(minutes=5)  # a workload's template change this close to a revision is that revision's author
OWNER_KINDS = {"StatefulSet": "statefulset", "DaemonSet": "daemonset"}

Containers = tuple[tuple[str, str], ...]  # (container name, image), in the template's order
Revisions = dict[tuple[str, str], list["Rev"]]  # by (namespace, workload)


# Images (pure) -------------------------------------------------------------------------------------------------------
def split_image(image: str) -> tuple[str, str]:
    """``registry:5000/team/app:2.4.1`` → (``registry:5000/team/app``, ``2.4.1``); a digest as ``@sha256:0123…``."""
    if "@" in image:
        repo, digest = image.split("@", 1)
        algo, _, value = digest.partition(":")
        return repo, f"@{algo}:{value[:12]}" if value else f"@{digest}"
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1 :]
    return image, "latest"


def restarted(template: Any) -> str | None:
    annotations = child(child(template, "metadata"), "annotations") if isinstance(template, dict) else {}
    value = annotations.get(RESTARTED_AT)
    return str(value) if value else None


def containers(template: Any) -> Containers:
    spec = template.get("spec") if isinstance(template, dict) else None
    listed = spec.get("containers") if isinstance(spec, dict) else None
    return tuple(
        (str(c.get("name") or i), str(c.get("image") or "?")) for i, c in enumerate(listed or []) if isinstance(c, dict)
    )


def image_change(before: Containers | None, after: Containers) -> str:
    """``2.4.1 → 2.4.2`` (tags; full images when the repositories differ); several containers joined, each named;
    ``2.4.0`` when what came before is not known; ``2.4.2, same images`` when no image changed."""
    parts: list[tuple[str, str]] = []
    old = dict(before or ())
    for name, image in after:
        repo, tag = split_image(image)
        if before is None or name not in old:
            parts.append((name, tag))
        elif old[name] != image:
            old_repo, old_tag = split_image(old[name])
            parts.append((name, f"{old_tag} → {tag}" if old_repo == repo else f"{old[name]} → {image}"))
    if not parts:
        tags = ", ".join(split_image(image)[1] for _, image in after) or "no containers"
        return f"{tags}, same images"
    if len(parts) == 1:
        return parts[0][1]
    return ", ".join(f"{name} {text}" for name, text in parts)


# Revisions to changes (pure) -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rev:
    """One ReplicaSet or ControllerRevision, reduced to what the feed says of it."""

    number: int
    hash: str
    containers: Containers
    cause: str | None
    at: datetime | None
    reused: bool  # re-used by a roll-back (its revision number moved up)
    earlier: tuple[int, ...] = ()  # the numbers it had before (``revision-history``)
    creator: str | None = None  # its first manager other than the controller-manager
    restarted: str | None = None  # the template's ``kubectl.kubernetes.io/restartedAt``


@dataclass
class Workload:
    """A workload as its rollouts need it: who changed its template when, and whether its newest revision is stuck."""

    authors: list[Managed] = field(default_factory=list)
    stuck: bool = False  # Progressing: ProgressDeadlineExceeded
    current: int | None = None
    selector: str | None = None  # its selector's matchLabels, as a label selector


def author(workload: Workload | None, at: datetime, rev: Rev) -> str | None:
    """The manager whose template change is closest to the revision (within BY_WINDOW), else the revision's own
    creator when it is not the controller-manager, else None."""
    near = [
        m
        for m in (workload.authors if workload else [])
        if m.owns and not m.subresource and m.manager != CONTROLLER_MANAGER and abs(m.time - at) <= BY_WINDOW
    ]
    if near:
        return min(near, key=lambda m: abs(m.time - at)).manager
    return rev.creator


def _roll_backs(numbered: dict[int, Rev], order: list[int]) -> tuple[set[int], set[int]]:
    """(returning, rolled back): the revisions re-using an older template, and the ones each replaced."""
    returning: set[int] = set()
    rolled_back: set[int] = set()
    for i, number in enumerate(order):
        if i == 0:
            continue
        rev = numbered[number]
        older = {numbered[n].hash for n in order[: i - 1]}
        if rev.hash in older or (rev.reused and rev.number == number):
            returning.add(number)
            rolled_back.add(order[i - 1])
    return returning, rolled_back


def _what(rev: Rev, prev: Rev | None, returning: bool) -> str:
    if returning:
        return f"rollback {image_change(prev.containers if prev else None, rev.containers)}"
    if prev and prev.containers == rev.containers and rev.restarted and rev.restarted != prev.restarted:
        return "restart " + ", ".join(split_image(image)[1] for _, image in rev.containers)
    return f"rollout {image_change(prev.containers if prev else None, rev.containers)}"


def rollouts(
    cluster: str, namespace: str, kind: str, name: str, revs: list[Rev], *, workload: Workload | None
) -> list[Change]:
    """One change per revision present (at its time), images compared with the revision before it.

    Roll-backs: a revision re-using an older template (its ReplicaSet moved up from the numbers in
    ``revision-history``, or a ControllerRevision re-used, or simply the same template hash as an older revision) is
    a ``rollback``, and the revision it replaced is marked failed (rolled back). A Deployment whose Progressing
    condition says ProgressDeadlineExceeded marks its newest revision failed.
    """
    numbered: dict[int, Rev] = {}
    for rev in revs:
        numbered[rev.number] = rev
        for number in rev.earlier:
            numbered.setdefault(number, rev)
    order = sorted(numbered)
    returning, rolled_back = _roll_backs(numbered, order)
    newest = workload.current if workload and workload.current is not None else (max(numbered) if numbered else None)
    changes = []
    for rev in revs:
        if rev.at is None:
            continue
        i = order.index(rev.number)
        prev = numbered[order[i - 1]] if i > 0 else None
        summary = f"{_what(rev, prev, rev.number in returning)} (rev {rev.number})"
        if rev.cause:
            summary += f": {clip(rev.cause)}"
        stuck = bool(workload and workload.stuck and rev.number == newest)
        changes.append(
            Change(
                at=rev.at,
                cluster=cluster,
                kind=Kind.ROLLOUT,
                namespace=namespace,
                name=name,
                workload=f"{kind}/{name}",
                summary=summary,
                by=author(workload, rev.at, rev),
                revision=rev.number,
                failed=rev.number in rolled_back or stuck,
            )
        )
    return changes


# Reading the revisions -----------------------------------------------------------------------------------------------
def _revision_numbers(value: Any) -> tuple[int, ...]:
    return tuple(int(p) for p in str(value or "").split(",") if p.strip().isdigit())


def _cause(annotations: Obj) -> str | None:
    return str(annotations[CHANGE_CAUSE]) if annotations.get(CHANGE_CAUSE) else None


def _workloads(reads: Reads, scope: Scope, plural: str, title: str, kind: str) -> dict[tuple[str, str], Workload]:
    out: dict[tuple[str, str], Workload] = {}
    for obj in reads.each(title, plural, scope.ns(APPS, plural), fieldSelector=scope.named()):
        metadata = meta(obj)
        namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
        if not scope.selects(kind, name):
            continue
        progressing = conditions(obj).get("Progressing") or {}
        current = str((metadata.get("annotations") or {}).get(REVISION, ""))
        spec = child(obj, "spec")
        labels = (spec.get("selector") or {}).get("matchLabels") or {}
        out[namespace, name] = Workload(
            authors=[m for m in managed(metadata) if m.owns],
            stuck=progressing.get("reason") == "ProgressDeadlineExceeded",
            current=int(current) if current.isdigit() else None,
            selector=",".join(f"{k}={v}" for k, v in sorted(labels.items())) or None,
        )
    return out


def _replica_set(rs: Obj, number: int, annotations: Obj) -> Rev:
    metadata = meta(rs)
    entries = managed(metadata)
    earlier = _revision_numbers(annotations.get(REVISION_HISTORY))
    made = created(metadata)
    at = made
    if earlier:  # re-used by a roll-back: its revision moved when the controller last wrote it
        own = [m.time for m in entries if not m.subresource] or [m.time for m in entries]
        at = max([*own, *([made] if made else [])], default=None)
    template = (rs.get("spec") or {}).get("template") or {}
    labels = metadata.get("labels") or {}
    return Rev(
        number=number,
        hash=str(labels.get(HASH_LABEL) or metadata.get("name")),
        containers=containers(template),
        cause=_cause(annotations),
        at=at,
        reused=bool(earlier),
        earlier=earlier,
        creator=creator(entries),
        restarted=restarted(template),
    )


def read_deployment_rollouts(reads: Reads, scope: Scope) -> list[Change]:
    workloads = _workloads(reads, scope, "deployments", "Deployments", "deployment")
    named = workloads.get((scope.namespace or "", scope.name or "")) if scope.kind == "deployment" else None
    revs: Revisions = defaultdict(list)
    selector = named.selector if named else None  # the named Deployment's ReplicaSets only, where the server applies it
    for rs in reads.each("ReplicaSets", "replicasets", scope.ns(APPS, "replicasets"), labelSelector=selector):
        metadata = meta(rs)
        owned = owner(metadata, ("Deployment",))
        annotations = metadata.get("annotations") or {}
        number = str(annotations.get(REVISION, ""))
        if owned is None or not number.isdigit() or not scope.selects("deployment", owned[1]):
            continue
        ref = f"deployment/{owned[1]}"
        revs[str(metadata.get("namespace") or ""), ref].append(_replica_set(rs, int(number), annotations))
    return _changes(scope, revs, {(ns, f"deployment/{name}"): w for (ns, name), w in workloads.items()})


def _changes(scope: Scope, revs: Revisions, workloads: dict[tuple[str, str], Workload]) -> list[Change]:
    """The rollouts in range, of ``revs`` and ``workloads`` by (namespace, ``kind/name``)."""
    out = []
    for (namespace, ref), listed in revs.items():
        kind, name = ref.split("/", 1)
        for change in rollouts(scope.cluster, namespace, kind, name, listed, workload=workloads.get((namespace, ref))):
            if scope.within(change.at):
                out.append(change)
    return out


def _controller_revision(cr: Obj, number: int) -> Rev:
    """A ControllerRevision's data is immutable: a later managedFields time is the controller re-using it for a
    roll-back, and moving its revision."""
    metadata = meta(cr)
    entries = managed(metadata)
    made = created(metadata)
    newest = max((m.time for m in entries), default=None)
    reused = bool(made and newest and newest > made + CHANGED_AFTER)
    template = (child(cr, "data").get("spec") or {}).get("template") or {}
    labels = metadata.get("labels") or {}
    return Rev(
        number=number,
        hash=str(labels.get(CONTROLLER_HASH) or metadata.get("name")),
        containers=containers(template),
        cause=_cause(metadata.get("annotations") or {}),
        at=newest if reused else made,
        reused=reused,
        creator=creator(entries),
        restarted=restarted(template),
    )


def read_controller_rollouts(reads: Reads, scope: Scope) -> list[Change]:
    """StatefulSets' and DaemonSets' ControllerRevisions."""
    kinds = [k for k, v in OWNER_KINDS.items() if scope.kind in (None, v)]
    workloads: dict[tuple[str, str], Workload] = {}
    for owner_kind in kinds:
        kind = OWNER_KINDS[owner_kind]
        workloads |= {
            (ns, f"{kind}/{name}"): w
            for (ns, name), w in _workloads(reads, scope, f"{kind}s", f"{owner_kind}s", kind).items()
        }
    revs: Revisions = defaultdict(list)
    for cr in reads.each("ControllerRevisions", "controllerrevisions", scope.ns(APPS, "controllerrevisions")):
        metadata = meta(cr)
        owned = owner(metadata, kinds)
        number = cr.get("revision")
        if owned is None or not isinstance(number, int) or isinstance(number, bool):
            continue
        kind = OWNER_KINDS[owned[0]]
        if not scope.selects(kind, owned[1]):
            continue
        revs[str(metadata.get("namespace") or ""), f"{kind}/{owned[1]}"].append(_controller_revision(cr, number))
    return _changes(scope, revs, workloads)
