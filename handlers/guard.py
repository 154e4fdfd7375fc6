"""One error policy for every listener: a user mistake or a failing dependency becomes a short
ephemeral reply, never a 5xx, a traceback in Slack, or silence. Also records request metrics."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot import metrics
from bot.incidents.store import ConcurrentChange, IncidentNotFound
from bot.redis_conn import StoreUnavailable

log = logging.getLogger(__name__)

Reply = Callable[[str], Awaitable[Any]]


class Replied(Exception):
    """Raised inside a guarded block after it has answered the user itself."""


def store_down_text(exc: StoreUnavailable) -> str:
    return f":warning: Nothing was changed: {exc}. Try again in a minute; the on-call platform team can check Redis."


def not_found_text(exc: IncidentNotFound) -> str:
    return f"INC-{exc.number} does not exist. `/incident list` shows the incidents not closed."


@asynccontextmanager
async def guarded(kind: str, name: str, reply: Reply) -> AsyncIterator[None]:
    """Run a listener body; translate known failures into replies; time it and count the outcome."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except Replied:
        outcome = "refused"
    except IncidentNotFound as exc:
        outcome = "not_found"
        await reply(not_found_text(exc))
    except StoreUnavailable as exc:
        outcome = "store_unavailable"
        metrics.STORE_ERRORS.inc()
        await reply(store_down_text(exc))
    except ConcurrentChange as exc:
        outcome = "conflict"
        await reply(f"{exc}. Please try again.")
    except Exception:
        outcome = "error"
        error_id = uuid.uuid4().hex[:8]
        log.exception("%s %s failed (error id %s)", kind, name, error_id)
        await reply(f":warning: Something went wrong (error id `{error_id}`); nothing more was done. It is logged.")
    finally:
        metrics.REQUESTS.labels(kind=kind, name=name, outcome=outcome).inc()
        metrics.REQUEST_SECONDS.labels(kind=kind, name=name).observe(time.perf_counter() - started)
