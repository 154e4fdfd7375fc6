"""Who may do what to one incident, beyond responders and operators: a private incident (its own private channel)
is read only by the people in that channel and operators; its severity and its closing are the commander's or an
operator's (any responder's while nobody commands it)."""

from __future__ import annotations

from bot.core.errors import UserError
from bot.core.permissions import Access, Actor, Who
from bot.core.settings.config import IncidentChannels
from bot.core.text import user
from bot.incidents.model import Incident


async def require_readable(access: Access, rooms: IncidentChannels, incident: Incident, actor: Actor) -> None:
    if not (rooms.private and incident.room):
        return
    if await access.is_operator(actor.user) or await access.in_channel(incident.room, actor.user):
        return
    raise UserError(f"{incident.ref} is private: only the people in its channel and operators may read it.")


async def require_commander(access: Access, incident: Incident, actor: Actor, doing: str) -> None:
    """``doing`` as in "change the severity of"."""
    if actor.user == incident.commander or await access.is_operator(actor.user):
        return
    if incident.commander is None:
        await access.require(Who.RESPONDERS, actor, f"{doing} incidents")
        return
    raise UserError(f"Only the commander ({user(incident.commander)}) or an operator may {doing} {incident.ref}.")
