"""One error policy for every listener (the kit applies it): a person's mistake or a failing dependency becomes a
short reply, never a 5xx, a traceback in Slack, or silence; every request is timed and its outcome counted."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.core import telemetry
from bot.core.errors import DependencyError, UserError
from bot.core.redis import StoreUnavailable
from bot.incidents.machine import TransitionRefused
from bot.incidents.store import IncidentNotFound
from bot.incidents.text import refusal_text
from runbooks.errors import BadRequest, NotConfigured, Refused

log = logging.getLogger(__name__)

Reply = Callable[[str], Awaitable[Any]]
SHOWN_AS_IS = (UserError, BadRequest, Refused)


def store_down_text(exc: StoreUnavailable) -> str:
    return f":warning: Nothing was changed: {exc}. Try again in a minute; the on-call platform team can check Redis."


def acked(ack: Any) -> Reply:
    """Reply in a slash command's acknowledgement (ephemeral)."""

    async def reply(text: str) -> None:
        await ack(text=text)

    return reply


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
    except NotConfigured as exc:  # e.g. no kubeconfig: raised where the client is built, for every command alike
        outcome = "not_configured"
        await reply(f":warning: {exc}")
    except Exception:
        outcome = "error"
        error_id = uuid.uuid4().hex[:8]
        log.exception("%s %s failed (error id %s)", kind, name, error_id)
        await reply(f":warning: Something went wrong (error id `{error_id}`); nothing more was done. It is logged.")
    finally:
        telemetry.REQUESTS.labels(kind=kind, name=name, outcome=outcome).inc()
        telemetry.REQUEST_SECONDS.labels(kind=kind, name=name).observe(time.perf_counter() - started)
