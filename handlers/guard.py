"""One error policy for every listener: a person's mistake or a failing dependency becomes a short
reply, never a 5xx, a traceback in Slack, or silence. Also records request metrics; and the two small
helpers every listener needs (an ephemeral reply, the clicked action)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from bot.core import telemetry
from bot.core.errors import DependencyError, UserError
from bot.core.permissions import Actor
from bot.core.redis import StoreUnavailable
from bot.incidents.machine import TransitionRefused
from bot.incidents.model import Incident
from bot.incidents.store import IncidentNotFound
from bot.incidents.text import refusal_text
from runbooks.errors import BadRequest, Refused

if TYPE_CHECKING:
    from bot.runtime.services import Services

log = logging.getLogger(__name__)

Reply = Callable[[str], Awaitable[Any]]
SHOWN_AS_IS = (UserError, BadRequest, Refused)


def store_down_text(exc: StoreUnavailable) -> str:
    return f":warning: Nothing was changed: {exc}. Try again in a minute; the on-call platform team can check Redis."


def ephemeral(respond: Any) -> Reply:
    """Reply only to the person, below the message they clicked (never replacing it)."""

    async def reply(text: str) -> None:
        await respond(text=text, response_type="ephemeral", replace_original=False)

    return reply


def acked(ack: Any) -> Reply:
    """Reply in a slash command's acknowledgement (ephemeral)."""

    async def reply(text: str) -> None:
        await ack(text=text)

    return reply


def first_action(body: dict[str, Any]) -> dict[str, Any]:
    """The clicked element of a block_actions payload ({} when there is none)."""
    actions = body.get("actions") or [{}]
    first = actions[0] if isinstance(actions, list) and actions else {}
    return first if isinstance(first, dict) else {}


async def require_responder(svc: Services, actor: Actor, doing: str) -> None:
    """``permissions.responders`` (everyone of this workspace when empty)."""
    if not await svc.access.is_responder(actor.user, actor.team):
        raise UserError(f"Only incident responders may {doing}. Ask the platform team to add you.")


async def require_readable(svc: Services, incident: Incident, actor: Actor) -> None:
    """A private incident (its own private channel) is read only by the people in that channel and operators."""
    if not (svc.config.incident_channels.private and incident.channel):
        return
    if await svc.access.is_operator(actor.user) or await svc.access.in_channel(incident.channel, actor.user):
        return
    raise UserError(f"{incident.ref} is private: only the people in its channel and operators may read it.")


@asynccontextmanager
async def guarded(kind: str, name: str, reply: Reply) -> AsyncIterator[None]:
    """Run a listener body; translate known failures into replies; time it and count the outcome."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except TransitionRefused as exc:
        outcome = "refused"
        await reply(refusal_text(exc))
    except IncidentNotFound as exc:
        outcome = "not_found"
        await reply(str(exc))
    except SHOWN_AS_IS as exc:
        outcome = "refused"
        await reply(str(exc))
    except StoreUnavailable as exc:
        outcome = "store_unavailable"
        telemetry.STORE_ERRORS.inc()
        await reply(store_down_text(exc))
    except DependencyError as exc:
        outcome = "dependency_failed"
        await reply(f":warning: {exc}")
    except Exception:
        outcome = "error"
        error_id = uuid.uuid4().hex[:8]
        log.exception("%s %s failed (error id %s)", kind, name, error_id)
        await reply(f":warning: Something went wrong (error id `{error_id}`); nothing more was done. It is logged.")
    finally:
        telemetry.REQUESTS.labels(kind=kind, name=name, outcome=outcome).inc()
        telemetry.REQUEST_SECONDS.labels(kind=kind, name=name).observe(time.perf_counter() - started)


async def answer(respond: Any, produce: Callable[[], Awaitable[tuple[list[Any], str]]], name: str, *,
                 in_channel: bool = False) -> None:  # fmt: skip
    """Work started after the ack: its blocks and summary through the response_url (failures said to the person)."""
    async with guarded("command", name, ephemeral(respond)):
        blocks, summary = await produce()
        kind = "in_channel" if in_channel else "ephemeral"
        await respond(text=summary, blocks=blocks, response_type=kind, replace_original=False)
