"""Who may do what: ``permissions.responders`` and ``permissions.operators`` from the config.

Entries are user ids (U…/W…) or user-group ids (S…); group members come from
``usergroups.users.list`` and are cached for a few minutes. The user is always the one
from the signed request, never from a button value.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.ids import GROUP_ID
from bot.core.settings.config import Permissions
from bot.core.slack import SLACK_ERRORS

log = logging.getLogger(__name__)


class Access:
    def __init__(self, client: AsyncWebClient, permissions: Permissions, ttl_seconds: float = 300.0) -> None:
        self.client = client
        self.permissions = permissions
        self.ttl = ttl_seconds
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    async def is_responder(self, user_id: str) -> bool:
        """Empty ``responders`` means everyone in the workspace."""
        return not self.permissions.responders or await self._member(user_id, self.permissions.responders)

    async def is_operator(self, user_id: str) -> bool:
        return await self._member(user_id, self.permissions.operators)

    async def _member(self, user_id: str, allowed: Sequence[str]) -> bool:
        if user_id in allowed:
            return True
        for entry in allowed:
            if GROUP_ID.match(entry) and user_id in await self._group(entry):
                return True
        return False

    async def _group(self, group_id: str) -> frozenset[str]:
        cached = self._groups.get(group_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            resp = await self.client.usergroups_users_list(usergroup=group_id)
            members = frozenset(resp.get("users") or [])
        except SLACK_ERRORS as exc:
            log.warning("could not read members of user group %s: %s", group_id, type(exc).__name__)
            return cached[1] if cached else frozenset()
        self._groups[group_id] = (time.monotonic() + self.ttl, members)
        return members
