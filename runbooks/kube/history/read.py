"""A cluster's change feed, read from its API: lists only (never a watch, never a pod, never a per-object GET),
each list read once, page by page, reduced to a few fields as it arrives.

What is read, by :class:`Kind` (a kind not asked for is not read):

- rollouts: Deployments' ReplicaSets (``deployment.kubernetes.io/revision``, ``kubernetes.io/change-cause``),
  StatefulSets' and DaemonSets' ControllerRevisions (``.revision``, the template's images in ``.data``), and the
  workloads themselves (their ``managedFields`` name who changed the template; a Deployment's Progressing condition
  says whether its newest revision exceeded its progress deadline);
- ConfigMaps and Secrets: the newest ``managedFields`` time and its manager (a Secret by name only; service-account
  token secrets and Helm release secrets are left out);
- HPAs: min/max at the newest change of their spec, and ``SuccessfulRescale`` events;
- Helm releases: the release secrets (``owner=helm``), decoded by :mod:`runbooks.kube.history.helm`;
- nodes (whole-cluster feed only): joined (creationTimestamp), cordoned (the unschedulable taint's ``timeAdded``),
  removed (``RemovingNode`` / ``DeletingNode`` events, best effort: events live about an hour);
- CronJobs suspended (``spec.suspend``, timed by the ``managedFields`` entry owning it).

A list that cannot be read (forbidden, an error) is one line of :attr:`Feed.problems`; a 404 (the API or the kind
absent from the cluster) is read as none. Only when no list answered at all is the client's error raised.

The lists are read concurrently (a thread each), as the checklist reads its own. Objects are decoded with the
client's JSON reader like every other list of the bot.

Here: :func:`feed` and the readers it runs; the readers are in :mod:`~runbooks.kube.history.rollouts` and
:mod:`~runbooks.kube.history.kinds`, what they read of an object in :mod:`~runbooks.kube.history.fields` (pure), how
they read their lists in :mod:`~runbooks.kube.history.lists`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from runbooks.errors import BadRequest
from runbooks.kube import names
from runbooks.kube.client import Cluster
from runbooks.kube.history.kinds import read_configmaps, read_cronjobs, read_helm, read_hpas, read_nodes, read_secrets
from runbooks.kube.history.lists import Reader, Reads, Scope
from runbooks.kube.history.model import Change, Feed, Kind
from runbooks.kube.history.rollouts import OWNER_KINDS, read_controller_rollouts, read_deployment_rollouts

MAX_READERS = 8

WORKLOAD_KINDS = {
    "deployment": "deployment",
    "deployments": "deployment",
    "deploy": "deployment",
    "statefulset": "statefulset",
    "statefulsets": "statefulset",
    "sts": "statefulset",
    "daemonset": "daemonset",
    "daemonsets": "daemonset",
    "ds": "daemonset",
    "cronjob": "cronjob",
    "cronjobs": "cronjob",
    "cj": "cronjob",
}
NODE_KINDS = frozenset({Kind.NODE_JOINED, Kind.NODE_CORDONED, Kind.NODE_REMOVED})


def parse_workload(workload: str) -> tuple[str, str]:
    """``deployment/api-gateway`` → (``deployment``, ``api-gateway``); BadRequest for anything else."""
    kind, sep, name = workload.strip().partition("/")
    if not sep or kind.lower() not in WORKLOAD_KINDS:
        raise BadRequest(
            f"`{names.shown(workload)}` is not a workload: name it as kind/name, e.g. deployment/api-gateway "
            "(deployment, statefulset, daemonset or cronjob)."
        )
    return WORKLOAD_KINDS[kind.lower()], names.subdomain(name, "workload")


def readers(scope: Scope, wanted: set[Kind]) -> list[Reader]:
    """The readers the kinds asked for need, in scope: a workload narrows to its own kind's rollouts, its HPA and its
    namespace's ConfigMaps, Secrets and Helm releases; nodes only for the whole cluster."""
    out: list[Reader] = []
    if Kind.ROLLOUT in wanted and scope.kind in (None, "deployment"):
        out.append(read_deployment_rollouts)
    if Kind.ROLLOUT in wanted and scope.kind in (None, *OWNER_KINDS.values()):
        out.append(read_controller_rollouts)
    if Kind.CONFIG in wanted:
        out.append(read_configmaps)
    if Kind.SECRET in wanted:
        out.append(read_secrets)
    if Kind.HELM in wanted:
        out.append(read_helm)
    if wanted & {Kind.HPA, Kind.SCALED} and scope.kind in (None, "deployment", "statefulset"):
        out.append(lambda reads, scope: read_hpas(reads, scope, wanted))
    if wanted & NODE_KINDS and scope.namespace is None:
        out.append(lambda reads, scope: read_nodes(reads, scope, wanted))
    if Kind.CRONJOB_SUSPENDED in wanted and scope.kind in (None, "cronjob"):
        out.append(read_cronjobs)
    return out


def _aware(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _newest_first(changes: Iterable[Change]) -> list[Change]:
    return sorted(
        changes,
        key=lambda c: (c.at, c.namespace or "", c.name, c.kind.value, c.revision or 0),
        reverse=True,
    )


def feed(
    cluster: Cluster,
    since: datetime,
    until: datetime,
    *,
    namespace: str | None = None,
    workload: str | None = None,
    kinds: Collection[Kind] | None = None,
) -> Feed:
    """The cluster's changes in [since, until] (naive times are UTC), newest first: in ``namespace`` only when one is
    given (no nodes then), narrowed to ``workload`` (``deployment/api-gateway``, which needs its namespace), of the
    ``kinds`` asked (every kind when None). Synchronous: call it from a worker thread.

    Raises BadRequest for a workload not named as kind/name (or without a namespace), and the client's error when
    the API server answered none of the lists.
    """
    since, until = _aware(since), _aware(until)
    kind = name = None
    if workload is not None:
        if namespace is None:
            raise BadRequest("A workload's changes are read in its namespace: name it as namespace/kind/name.")
        kind, name = parse_workload(workload)
    if namespace is not None:
        names.label(namespace, "namespace")
    scope = Scope(cluster=cluster.name, since=since, until=until, namespace=namespace, kind=kind, name=name)
    wanted = set(Kind) if kinds is None else set(kinds)
    chosen = readers(scope, wanted)
    if not chosen:
        return Feed(cluster=cluster.name, since=since, until=until, changes=[])
    runs = [(reader, Reads(cluster)) for reader in chosen]
    with ThreadPoolExecutor(max_workers=min(MAX_READERS, len(runs)), thread_name_prefix="changes") as pool:
        results = list(pool.map(lambda run: run[0](run[1], scope), runs))
    if not any(reads.answered for _, reads in runs):
        unreached = [exc for _, reads in runs for exc in reads.unreached]
        if unreached:
            raise unreached[0]
    changes = _newest_first(change for found in results for change in found)
    problems = [line for _, reads in runs for line in reads.problems]
    return Feed(cluster=cluster.name, since=since, until=until, changes=changes, problems=problems)
