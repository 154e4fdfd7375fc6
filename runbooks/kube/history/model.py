"""A cluster's changes as the change feed shows them (pure): one :class:`Change` per rollout, config change, scaling,
Helm release, node event or CronJob suspension, each with when, what, and who (the field manager) when known."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Kind(StrEnum):
    ROLLOUT = "rollout"  # a Deployment / StatefulSet / DaemonSet revision
    CONFIG = "configmap"  # a ConfigMap created or changed (never its content)
    SECRET = "secret"  # noqa: S105 (a kind, not a password) a Secret created or changed (by name only)
    HPA = "hpa"  # an HPA's min/max changed
    SCALED = "scaled"  # an HPA scaled its target (an event)
    HELM = "helm"  # a Helm release revision (chart, app version, status)
    NODE_JOINED = "node-joined"
    NODE_REMOVED = "node-removed"
    NODE_CORDONED = "node-cordoned"
    CRONJOB_SUSPENDED = "cronjob-suspended"
    BOT = "bot"  # a change made through this bot (from its audit stream)


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime  # aware, UTC
    cluster: str
    kind: Kind
    namespace: str | None  # None for cluster-scoped objects (nodes)
    name: str  # the object changed: the workload (rollouts), the ConfigMap, the release, the node
    workload: str | None = None  # ``deployment/api-gateway`` where the change belongs to one (rollouts, HPAs)
    summary: str  # what changed, without the object's name: ``rollout 2.4.1 → 2.4.2 (rev 7)``
    by: str | None = None  # the manager (``managedFields``), the Helm release's chart, or the bot's actor
    revision: int | None = None  # a rollout's revision (the roll-back offer's target is the one before)
    failed: bool = False  # a failed or rolled-back rollout, a failed Helm release


class Feed(BaseModel):
    """The changes of one cluster in a time range, newest first; what could not be read, one line each."""

    model_config = ConfigDict(frozen=True)

    cluster: str
    since: datetime
    until: datetime
    changes: list[Change]
    problems: list[str] = []  # "ConfigMaps: forbidden (RBAC)", never raising for one kind
