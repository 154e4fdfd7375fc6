"""The mutating actions the runbooks offer (roll back, restart, scale) and how each is carried out.

An offer is one of these models, stored server-side by the bot under an opaque id; the button only
carries that id. When an operator confirms, ``carry_out`` re-reads the Deployment, re-plans the
change against what is there now (refusing with a reason when it no longer applies) and patches it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from runbooks import deployment, restart, rollout, scale
from runbooks.cluster import Cluster


class _Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    namespace: str
    deployment: str
    cluster: str | None = None  # as named in kubernetes.clusters; None: the first (or the bot's own)

    label: ClassVar[str]  # "roll-back": the noun in messages
    verb: ClassVar[str]  # "roll back": what operators may do
    done: ClassVar[str]  # "rolled back": the timeline entry's kind

    @property
    def target(self) -> str:
        return f"{self.namespace}/{self.deployment}"


class Rollback(_Change):
    kind: Literal["rollback"] = "rollback"
    to_revision: int
    change: str  # "image:2.4.1 → image:2.4.0", as shown in the confirm dialog

    label: ClassVar[str] = "roll-back"
    verb: ClassVar[str] = "roll back"
    done: ClassVar[str] = "rolled back"


class Restart(_Change):
    kind: Literal["restart"] = "restart"

    label: ClassVar[str] = "restart"
    verb: ClassVar[str] = "restart"
    done: ClassVar[str] = "restarted"


class Scale(_Change):
    kind: Literal["scale"] = "scale"
    replicas: int

    label: ClassVar[str] = "scale"
    verb: ClassVar[str] = "scale"
    done: ClassVar[str] = "scaled"


AnyChange = Rollback | Restart | Scale
CHANGE: TypeAdapter[AnyChange] = TypeAdapter(Annotated[AnyChange, Field(discriminator="kind")])


def carry_out(cluster: Cluster, change: AnyChange, now: datetime) -> str:
    """Make the change; return what was done ("to revision 2: a → b"). Raises ActionRefused or ApiException."""
    if isinstance(change, Rollback):
        history = rollout.history(cluster, change.namespace, change.deployment)
        revision, patch = rollout.plan(history, change.to_revision)
        rollout.apply(cluster, history, patch)
        return f"to revision {revision.number}: {change.change}"
    state = deployment.read(cluster, change.namespace, change.deployment)
    if isinstance(change, Restart):
        deployment.patch(cluster, change.namespace, change.deployment, restart.plan(state, now))
        return f"rolling restart of {state.replicas} replica(s)"
    deployment.patch(cluster, change.namespace, change.deployment, scale.plan(state, change.replicas))
    return f"from {state.replicas} to {change.replicas} replica(s)"
