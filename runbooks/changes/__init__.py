"""Mutating actions the runbooks offer (roll back, restart, scale, restore a backup or a snapshot), as data.

An offer is a :class:`Change` stored server-side by the bot under an opaque id; the button only carries that id.
At the click the bot reads it back (:func:`parse`) and calls ``carry_out`` with the :class:`Site` it acts on (the
cluster named in the offer, connected on demand, and AWS), which re-reads what is there now, re-plans the change
(raising ``runbooks.errors.Refused`` with the reason when it no longer applies) and makes it. ``progress`` then
reads how far the change has got, until it is complete.

Each runbook module defines its own subclass with a ``kind`` literal; subclasses register themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from runbooks.aws.errors import ANSWERED as AWS_ANSWERED
from runbooks.aws.errors import AWS_ERRORS
from runbooks.errors import Refused
from runbooks.kube import deployment
from runbooks.kube.client import Cluster
from runbooks.kube.errors import API_ERRORS
from runbooks.kube.errors import explain as explain_kube
from runbooks.kube.lean import ApiException

if TYPE_CHECKING:
    from runbooks.aws.session import AwsSession

KINDS: dict[str, type[Change]] = {}
# Every error a change's calls raise when its API fails.
CHANGE_ERRORS: tuple[type[Exception], ...] = (*API_ERRORS, *AWS_ERRORS)


def answered(exc: BaseException) -> bool:
    """The API answered with an error (nothing was done), as opposed to not answering (the outcome is unknown)."""
    return (isinstance(exc, ApiException) and exc.status != 0) or isinstance(exc, AWS_ANSWERED)


@dataclass(frozen=True)
class Site:
    """Where a change acts: the cluster named in its offer (connected when first needed) and AWS."""

    cluster: Callable[[], Cluster]
    aws: AwsSession | None = None

    def require_aws(self) -> AwsSession:
        if self.aws is None:
            raise Refused("AWS is not configured (set aws.region in the config)")
        return self.aws


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    cluster: str | None = None  # as named in kubernetes.clusters; None: the first (or the bot's own)

    label: ClassVar[str]  # "roll-back": the noun in messages
    verb: ClassVar[str]  # "roll back": what operators may do
    done: ClassVar[str]  # "rolled back": the timeline entry's kind
    still: ClassVar[str] = "still going"  # said when following it runs out of time
    follow_for: ClassVar[float | None] = None  # seconds to follow it (None: kubernetes.rollout_timeout)
    followed: ClassVar[bool] = True  # False: it acts at once (cordon), there is nothing to follow

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kind = cls.model_fields["kind"].default
        if isinstance(kind, str):
            KINDS[kind] = cls

    @property
    def target(self) -> str:
        """What the change acts on, as people name it ("production/api-gateway", "RDS instance prod-db")."""
        raise NotImplementedError

    def carry_out(self, site: Site, now: datetime) -> str:
        """Make the change; return what was done ("to revision 2: a → b"). Raises Refused or the API's error."""
        raise NotImplementedError

    @property
    def progress_title(self) -> str:
        """What the progress reply is about: "Rollout of `production/api-gateway`"."""
        return f"{self.label.capitalize()} of `{self.target}`"

    def progress(self, site: Site) -> tuple[str, bool]:
        """One reading after the change: a progress line, and whether following it should stop."""
        raise NotImplementedError

    def explain(self, exc: BaseException) -> str:
        """A failed call of this change, in words naming the object and the permission."""
        return explain_kube(exc, self.target, "change")

    @property
    def states(self) -> str:
        """What its confirm dialog says the change does."""
        return f"{self.verb.capitalize()} {self.target}."

    def then(self, site: Site, outcome: str) -> list[Change]:
        """What to offer next once it is complete (``outcome``: its last progress line): an EKS control plane
        upgraded offers its node groups and add-ons."""
        return []


class DeploymentChange(Change):
    """A change to one Deployment (roll back, restart, scale): followed as a rollout."""

    namespace: str
    deployment: str

    still: ClassVar[str] = "still rolling out"

    @property
    def target(self) -> str:
        return f"{self.namespace}/{self.deployment}"

    @property
    def progress_title(self) -> str:
        return f"Rollout of `{self.target}`"

    def explain(self, exc: BaseException) -> str:
        return explain_kube(exc, f"deployment {self.target}", "change")

    def progress(self, site: Site) -> tuple[str, bool]:
        line, complete = deployment.rollout_status(site.cluster(), self.namespace, self.deployment)
        return (f"rollout complete ({line})", True) if complete else (line, False)


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
