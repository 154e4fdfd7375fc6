"""The EKS control plane's audit events summed up per person (pure): changes (create/update/patch/delete), exec and
attach into pods, Secret reads by people, and denied requests. Only the fields named here are read from an event;
request and response bodies never are.

A person is the user a request was made as: the impersonated user when there is one (the bot acting for someone,
shown "via" the bot), else ``user.username`` (with the IAM ARN behind it, for IAM-mapped users). People are every
user but Kubernetes' own (``system:*``, which includes service accounts) and EKS's (``eks:*``); denied requests
count service accounts too (an RBAC gap in a workload shows there).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MUTATING = frozenset({"create", "update", "patch", "delete", "deletecollection"})
READS = frozenset({"get", "list", "watch"})
INTO_PODS = frozenset({"exec", "attach"})
NOT_PEOPLE = ("system:", "eks:")
SERVICE_ACCOUNT = "system:serviceaccount:"
TOP = 10  # people shown per cluster
TARGETS = 3  # pods named per person's exec/attach


@dataclass(frozen=True)
class Event:
    """The fields of one audit event this summary reads."""

    audit_id: str
    person: str
    verb: str
    resource: str
    subresource: str
    target: str  # namespace/name (or name)
    code: int | None
    stage: str


@dataclass
class Person:
    name: str
    changes: Counter[str] = field(default_factory=Counter)  # "patch deployments" → count
    into_pods: Counter[str] = field(default_factory=Counter)  # "exec production/api-0" → count
    secret_reads: int = 0
    denied: Counter[str] = field(default_factory=Counter)  # "delete secrets" → count

    @property
    def total(self) -> int:
        return sum(self.changes.values()) + sum(self.into_pods.values()) + self.secret_reads + sum(self.denied.values())


@dataclass
class ClusterAudit:
    cluster: str
    people: list[Person] = field(default_factory=list)  # the most active first
    events: int = 0  # distinct requests summed up
    partial: bool = False  # the read stopped at its page bound before the end of the week
    off: str | None = None  # why there is no audit log to read


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(value: Any) -> str:
    return _text(value[0]) if isinstance(value, list) and value else _text(value)


def person_of(event: dict[str, Any]) -> str:
    """Who a request was made as: ``alice@acme.io via system:serviceaccount:ops:bot``, ``admin (arn:aws:sts::…)``."""
    user = _map(event.get("user"))
    name = _text(user.get("username")) or "?"
    impersonated = event.get("impersonatedUser")
    if isinstance(impersonated, dict) and _text(impersonated.get("username")):
        return f"{impersonated['username']} via {name}"
    extra = _map(user.get("extra"))
    arn = _first(extra.get("arn"))
    return f"{name} ({arn})" if arn and arn != name else name


def is_person(who: str) -> bool:
    """A person, not Kubernetes or EKS itself (for an impersonated request: the one it was made as)."""
    return not who.split(" via ", 1)[0].startswith(NOT_PEOPLE)


def parse(message: str) -> Event | None:
    """One audit log line as its Event (None: not an audit event)."""
    try:
        raw = json.loads(message)
    except ValueError:
        return None
    if not isinstance(raw, dict) or raw.get("kind") != "Event" or not _text(raw.get("verb")):
        return None
    ref, status = _map(raw.get("objectRef")), _map(raw.get("responseStatus"))
    code = status.get("code")
    namespace, name = _text(ref.get("namespace")), _text(ref.get("name"))
    return Event(
        audit_id=_text(raw.get("auditID")),
        person=person_of(raw),
        verb=_text(raw.get("verb")),
        resource=_text(ref.get("resource")),
        subresource=_text(ref.get("subresource")),
        target=f"{namespace}/{name}" if namespace and name else name or namespace,
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        stage=_text(raw.get("stage")),
    )


def _count(people: dict[str, Person], event: Event) -> bool:
    """Count one event on its person; False when it is none of the four kinds."""
    human = is_person(event.person)
    what = f"{event.verb} {event.resource}{'/' + event.subresource if event.subresource else ''}".strip()
    if event.code == 403:
        if not (human or event.person.startswith(SERVICE_ACCOUNT)):
            return False
        people.setdefault(event.person, Person(event.person)).denied[what] += 1
        return True
    if not human or (event.code is not None and event.code >= 400):
        return False  # Kubernetes' own, or a request that failed (and so did nothing)
    if event.resource == "pods" and event.subresource in INTO_PODS:
        people.setdefault(event.person, Person(event.person)).into_pods[f"{event.subresource} {event.target}"] += 1
    elif event.resource == "secrets" and not event.subresource and event.verb in READS:
        people.setdefault(event.person, Person(event.person)).secret_reads += 1
    elif event.verb in MUTATING:
        people.setdefault(event.person, Person(event.person)).changes[what] += 1
    else:
        return False
    return True


class Summary:
    """Audit log lines fed oldest first, one cluster's ClusterAudit out."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self._started: set[str] = set()
        self._people: dict[str, Person] = {}
        self._events = 0

    def add(self, message: str) -> None:
        event = parse(message)
        if event is None or event.stage == "RequestReceived":  # the request's outcome is not known at that stage
            return
        # A long request (exec, a watch) is logged when its response starts and again when it ends: counted once.
        if event.stage == "ResponseStarted":
            self._started.add(event.audit_id)
        elif event.audit_id in self._started:
            self._started.discard(event.audit_id)
            return
        if _count(self._people, event):
            self._events += 1

    def result(self, *, partial: bool = False) -> ClusterAudit:
        people = sorted(self._people.values(), key=lambda p: (-p.total, p.name))
        return ClusterAudit(self.cluster, people, self._events, partial)
