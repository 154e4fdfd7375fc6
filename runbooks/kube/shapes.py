"""The few fields of Kubernetes objects the checks read, as typed ``msgspec.Struct``s (pure).

A page of 500 pods is decoded straight into these (``Cluster.list_typed``): every field not named here is skipped by
the decoder instead of becoming a dict, which is about half of what the health digest and the security audit spend
on a large cluster. So a field a check reads must be named here, or the check silently reads its default:
``tests/unit/runbooks/kube/test_shapes.py`` decodes complete objects and runs the checks on them.

The attributes are spelt as in the API's JSON (camelCase), so each is found by its name in the Kubernetes reference.
Every field is optional (``None`` when absent or ``null``: the API server omits empty fields and sends ``null`` for
some, such as an event's ``eventTime``), unknown fields are ignored, and a value of another type than the API's
schema is a decoding error (``msgspec.ValidationError``, a ``ValueError``) as a body that is not JSON is. The
checks read an explicit ``null`` as they read an absent field. ``gc=False``: decoded trees hold no cycles, and tens
of thousands of them are not the garbage collector's business.

``as_pod`` and the like turn a plain dict (a test's object, a caller with JSON already decoded) into the same
shape, so every check reads one type.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")


class Shape(msgspec.Struct, kw_only=True, gc=False):
    """A typed view of a Kubernetes object's JSON."""


class ListMeta(Shape):
    # ``continue`` is a Python keyword: the attribute is ``next``.
    next: str | None = msgspec.field(default=None, name="continue")


class Page(Shape, Generic[T]):
    """One page of a list: its items and the token of the next page."""

    items: list[T] | None = None
    metadata: ListMeta | None = None


class Meta(Shape):
    name: str | None = None
    namespace: str | None = None
    creationTimestamp: str | None = None


class Condition(Shape):
    type: str | None = None
    status: str | None = None
    reason: str | None = None
    message: str | None = None


def by_type(conditions: list[Condition] | None) -> dict[str, Condition]:
    """``status.conditions`` by type (the last of a type wins, as ``objects.conditions`` reads a dict's)."""
    return {str(c.type): c for c in conditions or ()}


def name_of(meta: Meta | None) -> tuple[str | None, str]:
    """(namespace, name) as ``objects.meta`` says them: a missing name is ``?``."""
    if meta is None:
        return None, "?"
    return meta.namespace, "?" if meta.name is None else meta.name


# Pods, as the health checklist reads them (runbooks/checklist/checks.py: pod_problem, pod_restarts) -------------
class Waiting(Shape):
    reason: str | None = None


class Terminated(Shape):
    reason: str | None = None
    exitCode: int | None = None
    finishedAt: str | None = None

    @property
    def empty(self) -> bool:
        """Nothing the checks read is set (a plain ``{}``, read as no termination)."""
        return self.reason is None and self.exitCode is None and self.finishedAt is None


class ContainerState(Shape):
    waiting: Waiting | None = None
    terminated: Terminated | None = None


class ContainerStatus(Shape):
    name: str | None = None
    restartCount: int | None = None
    state: ContainerState | None = None
    lastState: ContainerState | None = None

    @property
    def restarts(self) -> int:
        return self.restartCount or 0

    @property
    def waiting_reason(self) -> str | None:
        waiting = self.state.waiting if self.state is not None else None
        return waiting.reason if waiting is not None else None

    @property
    def last_terminated(self) -> Terminated | None:
        """``lastState.terminated``, None when absent or empty."""
        terminated = self.lastState.terminated if self.lastState is not None else None
        return None if terminated is None or terminated.empty else terminated


class PodStatus(Shape):
    phase: str | None = None
    reason: str | None = None
    conditions: list[Condition] | None = None
    containerStatuses: list[ContainerStatus] | None = None
    initContainerStatuses: list[ContainerStatus] | None = None


class Pod(Shape):
    """A pod's health: its name, phase, conditions and its containers' states (no spec)."""

    metadata: Meta | None = None
    status: PodStatus | None = None


# Nodes (check_nodes) ------------------------------------------------------------------------------------------
class NodeSpec(Shape):
    unschedulable: bool | None = None


class NodeStatus(Shape):
    conditions: list[Condition] | None = None


class Node(Shape):
    metadata: Meta | None = None
    spec: NodeSpec | None = None
    status: NodeStatus | None = None


# Events (check_events) ----------------------------------------------------------------------------------------
class InvolvedObject(Shape):
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None


class Event(Shape):
    metadata: Meta | None = None
    type: str | None = None
    reason: str | None = None
    message: str | None = None
    count: int | None = None
    lastTimestamp: str | None = None
    eventTime: str | None = None
    involvedObject: InvolvedObject | None = None


# Pods, as the security audit reads them (runbooks/checklist/security.py: workload, _pod_findings) ---------------
class OwnerReference(Shape):
    kind: str | None = None
    name: str | None = None
    controller: bool | None = None


class PodLabels(Shape):
    """The one label the audit reads (the others are skipped, not decoded into a dict)."""

    pod_template_hash: str | None = msgspec.field(default=None, name="pod-template-hash")


class OwnedMeta(Meta):
    labels: PodLabels | None = None
    ownerReferences: list[OwnerReference] | None = None


class Capabilities(Shape):
    add: list[str] | None = None


class SecurityContext(Shape):
    """A container's or a pod's (the pod's has no ``privileged``, ``allowPrivilegeEscalation`` or capabilities)."""

    privileged: bool | None = None
    allowPrivilegeEscalation: bool | None = None
    capabilities: Capabilities | None = None
    runAsUser: int | None = None
    runAsNonRoot: bool | None = None


class Container(Shape):
    name: str | None = None
    securityContext: SecurityContext | None = None


class HostPath(Shape):
    path: str | None = None


class Volume(Shape):
    name: str | None = None
    hostPath: HostPath | None = None


class PodSpec(Shape):
    securityContext: SecurityContext | None = None
    initContainers: list[Container] | None = None
    containers: list[Container] | None = None
    ephemeralContainers: list[Container] | None = None
    serviceAccountName: str | None = None
    serviceAccount: str | None = None
    automountServiceAccountToken: bool | None = None
    hostNetwork: bool | None = None
    hostPID: bool | None = None
    hostIPC: bool | None = None
    volumes: list[Volume] | None = None


class PhaseOnly(Shape):
    phase: str | None = None


class SecuredPod(Shape):
    """A pod as the audit judges it: its owner, its spec's security settings, whether it has finished."""

    metadata: OwnedMeta | None = None
    spec: PodSpec | None = None
    status: PhaseOnly | None = None


S = TypeVar("S", bound=Shape)


def shaped(kind: type[S], obj: S | dict[str, Any]) -> S:
    """``obj`` as ``kind``: a dict converted (unknown fields ignored), a Struct of that kind as it is."""
    return obj if isinstance(obj, kind) else msgspec.convert(obj, kind)


def each(kind: type[S], objs: Iterable[S | dict[str, Any]]) -> Iterator[S]:
    for obj in objs:
        yield shaped(kind, obj)
