"""Mutating actions on a Deployment that runbooks offer (roll back, restart, scale, ...), as data.

An offer is a :class:`Change` stored server-side by the bot under an opaque id; the button only
carries that id. At the click the bot reads it back (:func:`parse`) and calls ``carry_out``, which
re-reads the Deployment, re-plans the change against what is there now (raising
``runbooks.errors.Refused`` with the reason when it no longer applies) and patches it.

Each runbook module defines its own subclass with a ``kind`` literal; subclasses register themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from runbooks.kube.client import Cluster

KINDS: dict[str, type[Change]] = {}


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    namespace: str
    deployment: str
    cluster: str | None = None  # as named in kubernetes.clusters; None: the first (or the bot's own)

    label: ClassVar[str]  # "roll-back": the noun in messages
    verb: ClassVar[str]  # "roll back": what operators may do
    done: ClassVar[str]  # "rolled back": the timeline entry's kind

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kind = cls.model_fields["kind"].default
        if isinstance(kind, str):
            KINDS[kind] = cls

    @property
    def target(self) -> str:
        return f"{self.namespace}/{self.deployment}"

    def carry_out(self, cluster: Cluster, now: datetime) -> str:
        """Make the change; return what was done ("to revision 2: a → b"). Raises Refused or ApiException."""
        raise NotImplementedError


def parse(data: Mapping[str, Any] | None) -> Change | None:
    """The stored offer as its Change (None: unknown kind or not a valid offer)."""
    if not data:
        return None
    kind = KINDS.get(str(data.get("kind")))
    if kind is None:
        return None
    try:
        return kind.model_validate({k: v for k, v in data.items() if k in kind.model_fields})
    except ValidationError:
        return None


@dataclass(frozen=True)
class Proposal:
    """A change a runbook proposes after reading the cluster, or why it proposes none.

    ``key`` is how the report's render function finds it ("revision-3", "restart").
    """

    key: str
    change: Change | None = None
    refusal: str | None = None
