"""The capacity review's arithmetic (pure): raw Kubernetes JSON in, per node group sums out.

Node groups by the node's ``eks.amazonaws.com/nodegroup`` label, else ``karpenter.sh/nodepool``, else "other".
Requests are the pods' effective requests (the larger of the app containers' sum and the largest init container,
plus the pod's overhead) of Running and Pending pods, by the node they are bound to; a pod not bound to any node
is pending, by the reason its ``PodScheduled`` condition gives. Quantities are read as the API server writes them
(``250m``, ``1.5``, ``2Gi``, ``128974848``, ``1e3``): CPU in cores, memory in bytes.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from runbooks.kube.objects import Obj, conditions, meta, parse_time

GROUP_LABELS = ("eks.amazonaws.com/nodegroup", "karpenter.sh/nodepool")
OTHER = "other"
NO_METRICS = "no metrics API (metrics.k8s.io does not answer): use unknown"
PINNED_FOR = timedelta(days=1)
OVER_RATIO = 2.0  # requests at least twice the use
OVER_CPU, OVER_MEMORY = 0.5, 1024**3  # and at least half a core or 1 GiB unused
OVER_SHOWN = 5
_GROUP_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)([A-Za-z]{0,2})$")
_SUFFIX = {
    "": 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60,
}  # fmt: skip
_INSUFFICIENT = re.compile(r"Insufficient (cpu|memory|nvidia\.com/gpu|pods|ephemeral-storage)")


def quantity(value: object) -> float:
    """A Kubernetes quantity in base units (cores, bytes); 0 for anything that is not one."""
    if isinstance(value, int | float):
        return float(value)
    found = _QUANTITY.match(str(value).strip()) if value is not None else None
    if found is None or found.group(2) not in _SUFFIX:
        return 0.0
    return float(found.group(1)) * _SUFFIX[found.group(2)]


@dataclass
class Amount:
    """CPU in cores, memory in bytes."""

    cpu: float = 0.0
    memory: float = 0.0

    def add(self, other: Amount) -> None:
        self.cpu += other.cpu
        self.memory += other.memory


def group_of(node: Obj) -> str:
    labels = (node.get("metadata") or {}).get("labels") or {}
    for label in GROUP_LABELS:
        value = labels.get(label)
        if isinstance(value, str) and _GROUP_NAME.match(value):
            return value
    return OTHER


def _resources(container: Obj, kind: str = "requests") -> Amount:
    values = ((container.get("resources") or {}).get(kind)) or {}
    return Amount(quantity(values.get("cpu")), quantity(values.get("memory")))


def pod_requests(pod: Obj) -> Amount:
    """The pod's effective requests: the app containers' sum or the largest init container, plus its overhead."""
    spec = pod.get("spec") or {}
    total = Amount()
    for c in spec.get("containers") or []:
        total.add(_resources(c))
    for c in spec.get("initContainers") or []:
        init = _resources(c)
        total = Amount(max(total.cpu, init.cpu), max(total.memory, init.memory))
    overhead = spec.get("overhead") or {}
    total.add(Amount(quantity(overhead.get("cpu")), quantity(overhead.get("memory"))))
    return total


def pending_reason(pod: Obj) -> str:
    """Why a pod bound to no node waits: the scheduler's ``Insufficient …`` words, else its condition's reason."""
    scheduled = conditions(pod).get("PodScheduled") or {}
    found = sorted(set(_INSUFFICIENT.findall(str(scheduled.get("message") or ""))))
    if found:
        return "Insufficient " + " and ".join(found)
    if scheduled.get("status") == "False":
        return str(scheduled.get("reason") or "Unschedulable")
    return "not scheduled yet"


@dataclass(frozen=True)
class PinnedHpa:
    namespace: str
    name: str
    max_replicas: int
    since: datetime


def pinned_hpa(hpa: Obj, now: datetime) -> PinnedHpa | None:
    """An HPA held at its maximum (``ScalingLimited`` True, ``TooManyReplicas``) for more than a day."""
    limited = conditions(hpa).get("ScalingLimited") or {}
    if limited.get("status") != "True" or limited.get("reason") != "TooManyReplicas":
        return None
    since = parse_time(limited.get("lastTransitionTime"))
    if since is None or now - since < PINNED_FOR:
        return None
    ns, name = meta(hpa)
    return PinnedHpa(ns or "", name, int((hpa.get("spec") or {}).get("maxReplicas") or 0), since)


@dataclass(frozen=True)
class OverRequest:
    namespace: str
    requested: Amount
    used: Amount


@dataclass
class Node:
    name: str
    group: str
    allocatable: Amount
    requested: Amount = field(default_factory=Amount)
    used: Amount | None = None


@dataclass
class Group:
    name: str
    nodes: int = 0
    allocatable: Amount = field(default_factory=Amount)
    requested: Amount = field(default_factory=Amount)
    used: Amount | None = None


class Tally:
    """The review's sums, fed list by list (each page as it arrives: nothing is kept but the sums)."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.unbound: dict[str, Amount] = defaultdict(Amount)  # requests on nodes not listed (yet)
        self.pending: Counter[str] = Counter()
        self.pending_pods: list[tuple[str, str, str]] = []
        self.by_namespace: dict[str, Amount] = defaultdict(Amount)  # Running pods' requests

    def add_nodes(self, nodes: Iterable[Obj]) -> None:
        for node in nodes:
            _, name = meta(node)
            alloc = (node.get("status") or {}).get("allocatable") or {}
            self.nodes[name] = Node(
                name, group_of(node), Amount(quantity(alloc.get("cpu")), quantity(alloc.get("memory")))
            )

    def add_pods(self, pods: Iterable[Obj]) -> None:
        for pod in pods:
            phase = (pod.get("status") or {}).get("phase")
            if phase not in ("Running", "Pending"):
                continue
            requests = pod_requests(pod)
            node = (pod.get("spec") or {}).get("nodeName")
            ns, name = meta(pod)
            if not node:
                reason = pending_reason(pod)
                self.pending[reason] += 1
                if len(self.pending_pods) < 200:
                    self.pending_pods.append((ns or "", name, reason))
                continue
            self.unbound[str(node)].add(requests)
            if phase == "Running":
                self.by_namespace[ns or ""].add(requests)

    def add_node_use(self, use: dict[str, Amount]) -> None:
        for name, amount in use.items():
            if name in self.nodes:
                self.nodes[name].used = amount

    def groups(self) -> list[Group]:
        """Per node group, largest first; use only where every node of the group has it."""
        for name, requested in self.unbound.items():
            if name in self.nodes:
                self.nodes[name].requested = requested
        groups: dict[str, Group] = {}
        known: dict[str, bool] = {}
        for node in self.nodes.values():
            group = groups.setdefault(node.group, Group(node.group, used=Amount()))
            group.nodes += 1
            group.allocatable.add(node.allocatable)
            group.requested.add(node.requested)
            if node.used is None:
                known[node.group] = False
            else:
                known.setdefault(node.group, True)
                assert group.used is not None
                group.used.add(node.used)
        for group in groups.values():
            if not known.get(group.name, False):
                group.used = None
        return sorted(groups.values(), key=lambda g: (-g.allocatable.cpu, g.name))

    def over_requesters(self, use: dict[str, Amount]) -> list[OverRequest]:
        """Namespaces whose Running pods request far more than they use (the top five by what is left unused)."""
        total = Amount()
        for node in self.nodes.values():
            total.add(node.allocatable)
        found = []
        for ns, requested in self.by_namespace.items():
            used = use.get(ns, Amount())
            cpu_over = requested.cpu >= OVER_RATIO * used.cpu and requested.cpu - used.cpu >= OVER_CPU
            mem_over = requested.memory >= OVER_RATIO * used.memory and requested.memory - used.memory >= OVER_MEMORY
            if cpu_over or mem_over:
                score = (requested.cpu - used.cpu) / (total.cpu or 1) + (requested.memory - used.memory) / (
                    total.memory or 1
                )
                found.append((score, OverRequest(ns, requested, used)))
        found.sort(key=lambda f: (-f[0], f[1].namespace))
        return [f[1] for f in found[:OVER_SHOWN]]


def usage(items: Iterable[Obj], by_namespace: bool = False) -> dict[str, Amount]:
    """metrics.k8s.io NodeMetrics by node, or PodMetrics summed by namespace."""
    out: dict[str, Amount] = defaultdict(Amount)
    for item in items:
        ns, name = meta(item)
        if by_namespace:
            for c in item.get("containers") or []:
                u = c.get("usage") or {}
                out[ns or ""].add(Amount(quantity(u.get("cpu")), quantity(u.get("memory"))))
        else:
            u = item.get("usage") or {}
            out[name].add(Amount(quantity(u.get("cpu")), quantity(u.get("memory"))))
    return dict(out)


@dataclass
class Review:
    cluster: str
    groups: list[Group] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    pending: dict[str, int] = field(default_factory=dict)
    pending_pods: list[tuple[str, str, str]] = field(default_factory=list)
    pinned: list[PinnedHpa] = field(default_factory=list)
    over: list[OverRequest] | None = None  # None: no pod metrics to compare with
    use_note: str | None = None  # why use is unknown
    notes: list[str] = field(default_factory=list)
    complete: bool = True  # nodes and pods both read: the sums are a sample worth keeping
    seconds: float = 0.0


@dataclass
class WorkloadErrors:
    namespace: str
    name: str
    lines: int = 0
    pods: int = 0
    sample: str | None = None
    truncated: bool = False


@dataclass
class LogErrors:
    workloads: list[WorkloadErrors] = field(default_factory=list)
    pods_read: int = 0
    unread: int = 0  # containers whose log could not be read
    left_out: int = 0  # pods past the bound
    notes: list[str] = field(default_factory=list)
