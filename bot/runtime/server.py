"""Serving: the Bolt app over HTTP (Starlette under uvicorn) or Socket Mode, plus probes and metrics.

Routes: ``POST /slack/events`` (commands, interactivity, events), ``GET /healthz`` (alive),
``GET /readyz`` (Redis reachable), ``GET /metrics`` (Prometheus text, or OpenMetrics when the Accept header asks for
it), ``POST /alerts/alertmanager`` (alert webhooks) and ``POST /heartbeat/<name>`` (jobs' check-ins, when
``heartbeats`` are configured), only when ALERTS_TOKEN is set. In Socket Mode the same HTTP server still answers the
probes and metrics. The lifespan runs the one poller (periodic jobs and scheduled posts) and drains background work
at shutdown.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import aiohttp
import uvicorn
from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.alerts.webhook import endpoint as alert_endpoint
from bot.alerts.webhook import heartbeat_endpoint
from bot.core.clock import utcnow
from bot.core.redis import RedisConnection, connect
from bot.core.settings import Settings
from bot.core.slack import build_client
from bot.incidents.store import IncidentStore
from bot.paging.webhooks import routes as paging_routes
from bot.runtime.app import BotIdentity, build_app
from bot.runtime.limits import MAX_CONCURRENCY, BodyLimits, HeaderDeadlineProtocol
from bot.runtime.services import Services, build

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0


class BotApp:
    """The bot as an ASGI app, and the parts it was built from (the shell and the tests move its clock and wake its
    poller)."""

    def __init__(self, asgi: ASGIApp, services: Services) -> None:
        self.asgi = asgi
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)


def create_web_app(settings: Settings, redis: RedisConnection, clock: Callable[[], datetime] = utcnow) -> BotApp:
    """The bot as an ASGI app. ``clock`` is the one time source of every deadline and schedule (the local shell and
    the tests move it)."""
    env = settings.env
    assert env.slack_bot_token is not None
    token = env.slack_bot_token.get_secret_value()
    client = build_client(token, env.slack_api_url)
    store = IncidentStore(redis.client, redis.description)
    identity = BotIdentity(token)
    svc = build(
        settings.config,
        client,
        store,
        clock,
        home_team=lambda: identity.team_id,
        prometheus_authorization=env.prometheus_authorization(),
        alertmanager_authorization=env.alertmanager_authorization(),
        loki_authorization=env.loki_authorization(),
        statuspage_key=env.statuspage_api_key.get_secret_value() if env.statuspage_api_key else None,
        twilio_token=env.twilio_auth_token.get_secret_value() if env.twilio_auth_token else None,
        ticket_token=env.ticket_token(settings.config.tickets.tracker),
        public_url=env.public_url,
    )
    secret = env.slack_signing_secret.get_secret_value() if env.slack_signing_secret else None
    bolt = build_app(svc, identity, signing_secret=None if env.socket_mode else secret)
    handler = AsyncSlackRequestHandler(bolt)

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(_: Request) -> Response:
        if await store.ping():
            return PlainTextResponse("ready\n")
        return PlainTextResponse(f"not ready: {store.description} unreachable\n", status_code=503)

    async def metrics(request: Request) -> Response:
        # Content negotiation: OpenMetrics when the scraper asks for it (Prometheus does), else the text format.
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(REGISTRY), headers={"Content-Type": content_type})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # One pooled HTTP session for every Web API call (slack_sdk opens one per call otherwise).
        client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client.timeout))
        # Not a drained background task: it may be retrying while Slack is away, and is cancelled at shutdown.
        learning = asyncio.create_task(identity.learn(client), name="auth-test")
        socket = None
        if env.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import (  # noqa: PLC0415 - only in Socket Mode
                AsyncSocketModeHandler,
            )

            assert env.slack_app_token is not None
            socket = AsyncSocketModeHandler(bolt, env.slack_app_token.get_secret_value())
            await socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("Socket Mode connected")
        if not await store.ping():
            log.warning("%s is not reachable yet; /readyz answers 503 until it is", store.description)
        poller = asyncio.create_task(svc.poller.run(), name="poller")
        # Everything loaded so far lives for the whole process: keep it out of the cyclic GC's scans. Start-up
        # (serve, the shell) runs with the collector off, as what it allocates is kept; on from here.
        gc.freeze()
        gc.enable()
        try:
            yield
        finally:
            log.info("shutting down")
            learning.cancel()
            svc.poller.stop()
            await poller
            await svc.escalator.drain(SHUTDOWN_GRACE_SECONDS)
            if socket is not None:
                await socket.close_async()  # type: ignore[no-untyped-call]
            await svc.tasks.drain(SHUTDOWN_GRACE_SECONDS)
            if svc.pager is not None:
                await svc.pager.providers.close()
            await client.session.close()
            await redis.close()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    if not env.socket_mode:
        # In Socket Mode requests arrive over the WebSocket; no unsigned HTTP entry point is left open.
        routes.append(Route("/slack/events", slack_events, methods=["POST"]))
    if env.alerts_token is not None and env.alerts_token.get_secret_value():  # no token: the endpoint is off (404)
        receive = alert_endpoint(env.alerts_token.get_secret_value(), svc.alerts)
        routes.append(Route("/alerts/alertmanager", receive, methods=["POST"]))
        if svc.heartbeats is not None:
            check_in = heartbeat_endpoint(env.alerts_token.get_secret_value(), svc.heartbeats)
            routes.append(Route("/heartbeat/{name}", check_in, methods=["POST"]))
    if svc.pager is not None and env.public_url and env.twilio_auth_token is not None:
        routes += paging_routes(svc.pager, env.public_url, env.twilio_auth_token.get_secret_value())
    return BotApp(BodyLimits(Starlette(routes=routes, lifespan=lifespan)), svc)


def serve(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT; uvicorn stops accepting, finishes requests, then lifespan drains tasks."""
    env = settings.env
    gc.disable()  # until the lifespan has frozen what start-up loaded: the collector would find nothing to free
    redis = connect(env.redis_url, env.chatops_data_dir)
    web = create_web_app(settings, redis)
    mode = "Socket Mode" if env.socket_mode else f"HTTP on {env.host}:{env.port}/slack/events"
    log.info("chatops-bot serving (%s), state in %s", mode, redis.description)
    config = uvicorn.Config(
        web,
        host=env.host,
        port=env.port,
        log_config=None,
        access_log=env.log_level == "DEBUG",
        timeout_graceful_shutdown=int(SHUTDOWN_GRACE_SECONDS),
        lifespan="on",
        http=HeaderDeadlineProtocol,
        limit_concurrency=MAX_CONCURRENCY,
    )
    # uvicorn re-raises the captured signal after its graceful shutdown; a no-op handler for
    # SIGTERM lets the process then exit 0, as orchestrators expect from a clean stop.
    signal.signal(signal.SIGTERM, lambda *_: None)
    uvicorn.Server(config).run()  # uvloop and httptools when installed
    log.info("stopped")
