"""Who may do what: ``permissions.responders`` and ``permissions.operators`` from the config, and who is in
a (private) channel.

Entries are user ids (U…/W…) or user-group ids (S…); group members come from ``usergroups.users.list``
and are cached for a few minutes. The user is always the one from the signed request, never from a
button value. With ``responders: []`` everyone *of this workspace* responds: a person from another
organisation in a Slack Connect channel is not a responder unless listed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import DependencyError, UserError
from bot.core.ids import GROUP_ID
from bot.core.settings.config import Permissions
from bot.core.slack import SLACK_ERRORS

log = logging.getLogger(__name__)

CHANNEL_MEMBERS_TTL = 60.0


class Who(Enum):
    """Who may use a command, a button or a form."""

    ANYONE = "anyone"
    RESPONDERS = "responders"  # permissions.responders (everyone of this workspace when empty)
    OPERATORS = "operators"  # permissions.operators


def refusal(who: Who, doing: str) -> str:
    """The one sentence a refusal says: ``doing`` as in "may acknowledge incidents"."""
    if who is Who.OPERATORS:
        return f"Only operators (permissions.operators) may {doing}."
    return f"Only incident responders may {doing}. Ask the platform team to add you."


@dataclass(frozen=True)
class Actor:
    """Who sent a request, from its signed payload: the user and the workspace (team) they belong to."""

    user: str
    team: str | None = None

    @classmethod
    def of_command(cls, command: dict[str, Any]) -> Actor:
        return cls(str(command["user_id"]), command.get("team_id"))

    @classmethod
    def of_body(cls, body: dict[str, Any]) -> Actor:
        """From an interaction payload (button, form): the user's own team, else the workspace's."""
        person = body.get("user") or {}
        return cls(str(person["id"]), person.get("team_id") or (body.get("team") or {}).get("id"))


class Access:
    def __init__(
        self,
        client: AsyncWebClient,
        permissions: Permissions,
        ttl_seconds: float = 300.0,
        home_team: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.client = client
        self.permissions = permissions
        self.ttl = ttl_seconds
        self.home_team = home_team
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._channels: dict[str, tuple[float, frozenset[str]]] = {}

    async def is_responder(self, user_id: str, team: str | None = None) -> bool:
        """Empty ``responders`` means everyone of this workspace (the bot's own team, once it is known)."""
        if not self.permissions.responders:
            home = self.home_team()
            return home is None or team is None or team == home
        return await self._member(user_id, self.permissions.responders)

    async def is_operator(self, user_id: str) -> bool:
        return await self._member(user_id, self.permissions.operators)

    async def allows(self, who: Who, actor: Actor) -> bool:
        if who is Who.RESPONDERS:
            return await self.is_responder(actor.user, actor.team)
        if who is Who.OPERATORS:
            return await self.is_operator(actor.user)
        return True

    async def require(self, who: Who, actor: Actor, doing: str) -> None:
        """Refuse (UserError, the one sentence) unless ``actor`` is one of ``who``."""
        if not await self.allows(who, actor):
            raise UserError(refusal(who, doing))

    async def in_channel(self, channel: str, user_id: str) -> bool:
        """Whether the person is a member of ``channel`` (conversations.members, cached for a minute)."""
        cached = self._channels.get(channel)
        if cached is None or cached[0] <= time.monotonic():
            members: set[str] = set()
            cursor = None
            try:
                while True:
                    resp = await self.client.conversations_members(channel=channel, cursor=cursor, limit=1000)
                    members.update(resp.get("members") or [])
                    cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                    if not cursor:
                        break
            except SLACK_ERRORS as exc:
                log.warning("could not read the members of %s: %s", channel, type(exc).__name__)
                return bool(cached and user_id in cached[1])
            cached = self._channels[channel] = (time.monotonic() + CHANNEL_MEMBERS_TTL, frozenset(members))
        return user_id in cached[1]

    async def in_group(self, user_id: str, group_id: str, *, fresh: bool = False) -> bool:
        """Whether the person is a member of the Slack user group (cached as the permissions' groups are).
        ``fresh``: never the members of an expired cache when Slack does not answer, DependencyError instead (what
        grants a Kubernetes identity is neither widened nor narrowed by a guess)."""
        return user_id in await self._group(group_id, fresh=fresh)

    async def _member(self, user_id: str, allowed: Sequence[str]) -> bool:
        if user_id in allowed:
            return True
        for entry in allowed:
            if GROUP_ID.match(entry) and user_id in await self._group(entry):
                return True
        return False

    async def _group(self, group_id: str, *, fresh: bool = False) -> frozenset[str]:
        cached = self._groups.get(group_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            resp = await self.client.usergroups_users_list(usergroup=group_id)
            members = frozenset(resp.get("users") or [])
        except SLACK_ERRORS as exc:
            log.warning("could not read members of user group %s: %s", group_id, type(exc).__name__)
            if fresh:
                raise DependencyError(
                    f"could not read user group {group_id} from Slack ({type(exc).__name__})"
                ) from None
            return cached[1] if cached else frozenset()
        self._groups[group_id] = (time.monotonic() + self.ttl, members)
        return members
