"""Cordon, uncordon and drain, the maintenance window's node changes: offered as buttons, carried out by the bot's
safety path (operators, once, audited). They act at once, so there is no rollout to follow."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from runbooks.changes import Change, Site
from runbooks.errors import Refused
from runbooks.kube import nodes
from runbooks.kube.errors import explain as explain_kube
from runbooks.kube.lean import ApiException

GRANT = "patch on nodes and create on pods/eviction (deploy/rbac-nodes.yaml)"


class _NodesChange(Change):
    nodes: list[str]

    cordon: ClassVar[bool]
    followed: ClassVar[bool] = False

    @property
    def target(self) -> str:
        return f"node(s) {', '.join(self.nodes)}"

    def explain(self, exc: BaseException) -> str:
        return explain_kube(exc, self.target, "change", GRANT)

    def carry_out(self, site: Site, now: datetime) -> str:
        cluster = site.cluster()
        changed: list[str] = []
        already: list[str] = []
        for node in self.nodes:
            try:
                current = nodes.unschedulable(cluster, node)
            except ApiException as exc:
                if exc.status == 404:
                    raise Refused(f"node {node} does not exist (any more)") from None
                raise
            (already if current == self.cordon else changed).append(node)
        if not changed:
            raise Refused(f"{', '.join(already)} {'is' if len(already) == 1 else 'are'} {self.done} already")
        for node in changed:
            nodes.set_unschedulable(cluster, node, self.cordon)
        return f"({', '.join(already)} {self.done} already)" if already else ""


class Cordon(_NodesChange):
    kind: Literal["cordon"] = "cordon"
    cordon: ClassVar[bool] = True
    label: ClassVar[str] = "cordon"
    verb: ClassVar[str] = "cordon"
    done: ClassVar[str] = "cordoned"

    @property
    def states(self) -> str:
        return f"Marks {', '.join(self.nodes)} unschedulable (kubectl cordon): running pods stay, no new ones land."


class Uncordon(_NodesChange):
    kind: Literal["uncordon"] = "uncordon"
    cordon: ClassVar[bool] = False
    label: ClassVar[str] = "uncordon"
    verb: ClassVar[str] = "uncordon"
    done: ClassVar[str] = "uncordoned"

    @property
    def states(self) -> str:
        return f"Makes {', '.join(self.nodes)} schedulable again (kubectl uncordon)."


class Drain(Change):
    kind: Literal["drain"] = "drain"
    node: str

    label: ClassVar[str] = "drain"
    verb: ClassVar[str] = "drain"
    done: ClassVar[str] = "drained"
    followed: ClassVar[bool] = False

    @property
    def target(self) -> str:
        return f"node {self.node}"

    @property
    def states(self) -> str:
        return (
            f"Cordons {self.node} and evicts its pods through the Eviction API: PodDisruptionBudgets are respected "
            "(a pod they protect stays and is named), DaemonSet and mirror pods are skipped."
        )

    def explain(self, exc: BaseException) -> str:
        return explain_kube(exc, self.target, "change", GRANT)

    def carry_out(self, site: Site, now: datetime) -> str:
        """Every read the drain needs first (the node, its pods, their budgets), then the cordon and the evictions:
        one whom the cluster lets cordon but not read the pods or budgets (or the bot lacking a grant) changes
        nothing. The pods are listed again once the node is cordoned, so none that landed meanwhile is left."""
        cluster = site.cluster()
        try:
            cordoned = nodes.unschedulable(cluster, self.node)
        except ApiException as exc:
            if exc.status == 404:
                raise Refused(f"node {self.node} does not exist (any more)") from None
            raise
        budgets = nodes.budgets_in(cluster, nodes.pods_on(cluster, self.node))
        if not cordoned:
            nodes.set_unschedulable(cluster, self.node, True)
        return f": {nodes.drain(cluster, self.node, budgets).summary()}"
