"""The Bolt app factory: one AsyncApp shared by HTTP and Socket Mode."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys
from bot.core.logs import redact_value
from bot.core.redis import StoreUnavailable
from bot.core.slack import SLACK_ERRORS
from bot.runtime.services import Services
from handlers import register_all

log = logging.getLogger(__name__)

DEDUPE_TTL_SECONDS = 3600
TOKEN_REFUSED = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})


class BotIdentity:
    """The bot's own token and ids; ``authorize`` for Bolt without an auth.test per request."""

    def __init__(self, bot_token: str) -> None:
        self.bot_token = bot_token
        self.bot_user_id: str | None = None
        self.bot_id: str | None = None
        self.team_id: str | None = None

    def authorizer(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """A plain function for Bolt, which injects arguments by parameter name."""

        async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            return AuthorizeResult(
                enterprise_id=enterprise_id,
                team_id=team_id or self.team_id,
                bot_token=self.bot_token,
                bot_user_id=self.bot_user_id,
                bot_id=self.bot_id,
            )

        return authorize

    async def learn(self, client: AsyncWebClient, first_wait: float = 1.0, max_wait: float = 60.0) -> None:
        """Learn who the bot is (auth.test), retrying with backoff while Slack is unreachable.

        Requests are served meanwhile. A refused token is said once, clearly, and not retried:
        every Web API call would fail the same way until the token is fixed.
        """
        wait = first_wait
        while True:
            try:
                resp = await client.auth_test()
                break
            except SlackApiError as exc:
                error = str(exc.response.get("error"))
                if error in TOKEN_REFUSED:
                    log.error("Slack refused the bot token (%s): check SLACK_BOT_TOKEN; Web API calls will fail", error)
                    return
                log.warning("Slack auth.test failed (%s); retrying in %.0fs", error, wait)
            except SLACK_ERRORS as exc:
                log.warning("Slack auth.test failed (%s); retrying in %.0fs", type(exc).__name__, wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, max_wait)
        self.bot_user_id, self.bot_id, self.team_id = resp.get("user_id"), resp.get("bot_id"), resp.get("team_id")
        log.info("connected to Slack team %s as bot user %s", resp.get("team"), self.bot_user_id)


class _TokenIgnoredNotice(logging.Filter):
    """Bolt warns that the client's token is ignored when ``authorize`` is given; here that is by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("As `installation_store` or `authorize` has been used")


def build_app(svc: Services, identity: BotIdentity, *, signing_secret: str | None) -> AsyncApp:
    """Create the Bolt app with idempotency middleware and every listener registered."""
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_TokenIgnoredNotice())
    app = AsyncApp(
        # The name Bolt would give it (this file's): its default reads the whole call stack, which resolves the file
        # of every loaded module (70 ms of start-up with the bot's modules loaded)
        name="app.py",
        client=svc.client,
        signing_secret=signing_secret or "unused-in-socket-mode",
        authorize=identity.authorizer(),
        request_verification_enabled=signing_secret is not None,
        # Listeners ack first and hand slow work to BackgroundTasks, so running them to completion
        # before answering costs nothing and avoids Bolt's 10 ms ack-polling loop.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )
    app.use(_dedupe(svc))
    register_all(app, svc)
    return app


def request_key(body: dict[str, Any]) -> str | None:
    """What makes a Slack request unique: the event id for events, the trigger id otherwise."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return keys.seen_event(str(body["event_id"]))
    trigger = body.get("trigger_id")
    if isinstance(trigger, str) and trigger:
        return keys.seen_trigger(trigger)
    return None


def _dedupe(svc: Services) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Swallow Slack's retries and replays (a request already handled gets an empty 200);
    register the request's response_url with the log redactor."""

    async def dedupe(req: AsyncBoltRequest, body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
        for url in [body.get("response_url"), *[r.get("response_url") for r in body.get("response_urls") or []]]:
            if isinstance(url, str):
                redact_value(url)
        key = request_key(body)
        if key is not None:
            try:
                first = await svc.store.claim(key, DEDUPE_TTL_SECONDS)
            except StoreUnavailable:
                first = True  # the listener reports the outage itself
            if not first:
                retry = req.headers.get("x-slack-retry-num", ["0"])[0]
                log.info("duplicate Slack request ignored (%s, retry %s)", key.split(":")[1], retry)
                return BoltResponse(status=200, body="")
        return await next()

    return dedupe
