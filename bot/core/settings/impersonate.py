"""``kubernetes.impersonate`` (pure): the Kubernetes identity each operator's changes from chat are made as.

``users`` maps a Slack user id to a Kubernetes user name; ``groups`` maps a Slack user group id to Kubernetes
groups. A clicker in a mapped user group but without a user of their own acts as ``slack:<their Slack id>`` in those
groups (Kubernetes impersonates groups only together with a user).
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from bot.core.ids import GROUP_ID, USER_ID
from bot.core.settings.types import Strict

NAME_MAX = 253


def subject(value: str, what: str) -> str:
    """A Kubernetes user or group name as an HTTP header carries it: printable ASCII, no surrounding spaces."""
    if not isinstance(value, str) or not 1 <= len(value) <= NAME_MAX:
        raise ValueError(f"{what} names must be 1-{NAME_MAX} characters")
    if value != value.strip() or not value.isascii() or not value.isprintable():
        raise ValueError(
            f"{what} name {value!r} has spaces around it, control characters or non-ASCII letters (an HTTP header "
            "carries it)"
        )
    return value


class Impersonate(Strict):
    """``{users: {U0ALICE: alice@acme.io}, groups: {S0SRE: [sre]}}``."""

    users: dict[str, str] = Field(default_factory=dict, description="Slack user id → Kubernetes user")
    groups: dict[str, list[str]] = Field(default_factory=dict, description="Slack user group id → Kubernetes groups")

    @field_validator("users")
    @classmethod
    def _users(cls, value: dict[str, str]) -> dict[str, str]:
        for slack_id, name in value.items():
            if not USER_ID.match(slack_id):
                raise ValueError(
                    f"{slack_id!r} is not a Slack user id (like U0123ABCD): kubernetes.impersonate.users maps a "
                    "Slack user id to a Kubernetes user"
                )
            subject(name, "Kubernetes user")
        return value

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for slack_id, names in value.items():
            if not GROUP_ID.match(slack_id):
                raise ValueError(
                    f"{slack_id!r} is not a Slack user group id (like S0123ABCD): kubernetes.impersonate.groups "
                    "maps a Slack user group id to Kubernetes groups"
                )
            if not names:
                raise ValueError(f"user group {slack_id} maps to no Kubernetes groups")
            for name in names:
                subject(name, "Kubernetes group")
        return value

    @model_validator(mode="after")
    def _some(self) -> Impersonate:
        if not self.users and not self.groups:
            raise ValueError("lists no users and no groups: nobody could change anything from chat")
        return self
