"""``kubernetes.impersonate``: whom a change from chat is made as in Kubernetes, from the clicker's Slack id or
the Slack user groups they belong to (the one who clicked, never a button's value), and what is said when the
cluster refuses them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.core.permissions import Access
from bot.core.settings.impersonate import Impersonate
from bot.core.text import user


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...] = ()

    @property
    def shown(self) -> str:
        """As the audit records it: ``alice@acme.io (groups sre, oncall)``."""
        return f"{self.user} (groups {', '.join(self.groups)})" if self.groups else self.user


def no_identity(actor: str) -> str:
    """Why a clicker without a mapped identity changes nothing in the cluster."""
    return (
        f"{user(actor)} has no Kubernetes identity in kubernetes.impersonate (their Slack id under `users`, or a "
        "user group of theirs under `groups`): with it set, the bot carries out changes from chat only for the people "
        "it maps, and makes their cluster changes as them"
    )


async def identity_of(settings: Impersonate, access: Access, actor: str) -> Identity | None:
    """The actor's Kubernetes user and groups, or None when nothing maps them. A member of a mapped user group with
    no user of their own acts as ``slack:<id>`` in its groups (Kubernetes impersonates groups only with a user).
    A user group whose members Slack does not tell now raises DependencyError: never the members of an expired cache,
    which could grant groups someone left or withhold ones they joined."""
    groups: list[str] = []
    for group_id, names in settings.groups.items():
        if await access.in_group(actor, group_id, fresh=True):  # Slack not answering: DependencyError, no guess
            groups += [n for n in names if n not in groups]
    name = settings.users.get(actor)
    if name is None and not groups:
        return None
    return Identity(name or f"slack:{actor}", tuple(groups))


def _message(exc: BaseException) -> str:
    """The API server's Status message of a refusal ("" when its body says none)."""
    body = getattr(exc, "body", None)
    try:
        status = json.loads(body) if isinstance(body, str | bytes) else None
    except ValueError:
        return ""
    return str(status.get("message") or "") if isinstance(status, dict) else ""


def cluster_refusal(exc: BaseException, identity: Identity, doing: str) -> str | None:
    """The cluster's 403 for a change made as ``identity`` (``doing``: "roll back production/api"), said naming who was
    refused (None: not a 403): the bot's ServiceAccount may lack ``impersonate`` on that subject, or the person's
    own RBAC may not allow the change."""
    if getattr(exc, "status", None) != 403:
        return None
    if "cannot impersonate" in _message(exc):
        return (
            f"the cluster did not let the bot act as {identity.shown}: its ServiceAccount may not impersonate that "
            "user or group (deploy/rbac-impersonate.yaml grants it, listing the subjects)"
        )
    return f"the cluster's RBAC refused {identity.shown}: they may not {doing} (bind them to a Role that allows it)"
