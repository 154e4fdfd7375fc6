"""What one of the feed's readers reads, and how: the range and the workload in scope (:class:`Scope`), and its lists,
each read page by page, a failure one problem line (:class:`Reads`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runbooks.kube.client import Cluster, path
from runbooks.kube.errors import API_ERRORS, explain
from runbooks.kube.history.model import Change
from runbooks.kube.lean import ApiException
from runbooks.kube.objects import Obj

CORE = "/api/v1"
BATCH = "/apis/batch/v1"
AUTOSCALING = "/apis/autoscaling/v2"


@dataclass(frozen=True)
class Scope:
    cluster: str
    since: datetime
    until: datetime
    namespace: str | None
    kind: str | None  # the workload's kind (``deployment``), when one is named
    name: str | None

    def within(self, at: datetime | None) -> bool:
        return at is not None and self.since <= at <= self.until

    def ns(self, base: str, plural: str) -> str:
        return path(base, self.namespace, plural)

    def selects(self, kind: str, name: str) -> bool:
        """Whether a workload's own changes (rollouts, HPA, CronJob) are in scope."""
        return self.kind is None or (self.kind == kind and self.name == name)

    def targets(self, target: str | None) -> bool:
        """Whether an HPA scaling ``target`` (``deployment/api``) is in scope."""
        return self.kind is None or target == f"{self.kind}/{self.name}"

    def named(self) -> str | None:
        """A field selector for the one workload named (a server that cannot apply it sends more, filtered here)."""
        return f"metadata.name={self.name}" if self.name else None


class Reads:
    """The lists one reader makes: what failed, as a line each; whether the API answered at all."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.problems: list[str] = []
        self.answered = False
        self.unreached: list[BaseException] = []

    def each(self, title: str, what: str, resource: str, *, metadata_only: bool = False, **query: Any) -> Iterator[Obj]:
        """Every item of a list; on a failure, one problem line and the items read so far. 404: none.
        ``metadata_only``: the items' metadata alone, where nothing else is read (ConfigMaps, Secrets)."""
        try:
            for item in self.cluster.list_all(resource, metadata_only=metadata_only, **query):
                if isinstance(item, dict):
                    yield item
        except ApiException as exc:
            if exc.status == 0:
                self.unreached.append(exc)
            else:
                self.answered = True
            if exc.status != 404:
                self.problems.append(f"{title}: {explain(exc, what, 'list')}")
            return
        except API_ERRORS as exc:
            self.unreached.append(exc)
            self.problems.append(f"{title}: {explain(exc, what, 'list')}")
            return
        self.answered = True


Reader = Callable[[Reads, Scope], list[Change]]
