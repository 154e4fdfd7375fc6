"""The bot in the test's own process: ``create_web_app(settings, redis, clock)`` served by uvicorn on a loopback port,
in a thread of its own (its own event loop), driven by signed HTTP requests like the real one. Its clock is a
``MovableClock`` the test moves on (``advance``) instead of sleeping; ``ticked()`` waits until the poller has looked
at the moved clock. Its logs go to a file of its own, through the product's redacting formatter.

Whole-process tests (SIGTERM, crash and restart, Socket Mode, log redaction, the embedded Redis, the shell, the
CLIs) use ``tests.support.bot_process.BotProcess`` instead.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.core.clock import MovableClock
from bot.core.logs import RedactingFormatter, Redactor
from bot.core.redis import RedisConnection, connect
from bot.core.settings import Settings, load_config_file
from bot.core.settings.environment import Environment
from bot.runtime.limits import MAX_CONCURRENCY, HeaderDeadlineProtocol
from bot.runtime.server import BotApp, create_web_app
from tests.support.net import free_port, wait_for

SIGNING_SECRET = "test-signing-secret-5f0c2a9e7b1d"
BOT_TOKEN = "xoxb-111-222-testbottokenvalue"

# Which bot a log record belongs to: set in each bot's thread, inherited by its tasks and worker threads.
_BOT: contextvars.ContextVar[str] = contextvars.ContextVar("bot")
_ENV_LOCK = threading.Lock()
_ENV_USERS: dict[str, tuple[str, int]] = {}  # name → (value, bots using it)


class _Given(Environment):
    """The environment exactly as given: nothing read from this process's own environment or a ``.env`` file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class _OneBot(logging.Filter):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.bot = name

    def filter(self, record: logging.LogRecord) -> bool:
        return _BOT.get(None) == self.bot


@contextmanager
def _process_env(values: dict[str, str]) -> Iterator[None]:
    """Set what libraries read from the process environment themselves (KUBECONFIG, AWS_*), while a bot runs.
    Two bots running at once must agree on these."""
    with _ENV_LOCK:
        for name, value in values.items():
            held = _ENV_USERS.get(name)
            if held is not None and held[0] != value:
                raise RuntimeError(f"two in-process bots need different {name}")
        for name, value in values.items():
            held = _ENV_USERS.get(name)
            _ENV_USERS[name] = (value, (held[1] if held else 0) + 1)
            os.environ[name] = value
    try:
        yield
    finally:
        with _ENV_LOCK:
            for name in values:
                value, users = _ENV_USERS[name]
                if users == 1:
                    del _ENV_USERS[name]
                    os.environ.pop(name, None)
                else:
                    _ENV_USERS[name] = (value, users - 1)


class Bot:
    """One bot replica in this process. ``env`` holds what a deployment would set: the bot's own settings (``PORT``
    aside) and what its libraries read (``KUBECONFIG``, ``AWS_ENDPOINT_URL``, …)."""

    def __init__(
        self,
        *,
        redis_url: str | None,
        slack_api_url: str,
        config_path: Path,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
        clock: MovableClock | None = None,
        name: str | None = None,
    ) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.clock = clock or MovableClock()
        self.name = name or f"{log_path.stem}-{self.port}"
        if slack_api_url.endswith("/api/") and "/b/" not in slack_api_url:  # each bot's calls recorded as its own
            slack_api_url = f"{slack_api_url.removesuffix('/api/')}/b/{self.name}/api/"
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_api_url,
            "CHATOPS_CONFIG": str(config_path),
            "LOG_LEVEL": "DEBUG",
            "LOG_FORMAT": "json",
            **({"REDIS_URL": redis_url} if redis_url else {}),
            **(extra_env or {}),
        }
        fields = Environment.model_fields
        self.settings_env = {k.lower(): v for k, v in env.items() if k.lower() in fields}
        self.process_env = {k: v for k, v in env.items() if k.lower() not in fields}
        self.app: BotApp | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failed: BaseException | None = None
        self._handler: logging.Handler | None = None
        self._env: Any = None  # the entered _process_env, left when the bot stops

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def services(self) -> Any:
        assert self.app is not None
        return self.app.services

    # Starting and stopping -----------------------------------------------------------------------------------
    def start(self, timeout: float = 20.0) -> Bot:
        env = _Given(**self.settings_env, host="127.0.0.1", port=self.port)
        settings = Settings(env=env, config=load_config_file(env.chatops_config))
        self._log_to_file(env)
        self._env = _process_env(self.process_env)
        self._env.__enter__()
        self._thread = threading.Thread(target=self._serve, args=(settings,), name=self.name, daemon=True)
        self._thread.start()
        wait_for(self._started, timeout=timeout, what=f"in-process bot {self.name} on {self.port}")
        return self

    def _log_to_file(self, env: Environment) -> None:
        handler = logging.FileHandler(self.log_path, encoding="utf-8")
        handler.setFormatter(RedactingFormatter(Redactor(env.secrets()), json_lines=env.log_format == "json"))
        handler.addFilter(_OneBot(self.name))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        self._handler = handler

    def _serve(self, settings: Settings) -> None:
        _BOT.set(self.name)
        try:
            asyncio.run(self._main(settings))
        except BaseException as exc:
            self._failed = exc

    async def _main(self, settings: Settings) -> None:
        self._loop = asyncio.get_running_loop()
        redis: RedisConnection = connect(settings.env.redis_url, settings.env.chatops_data_dir)
        self.app = create_web_app(settings, redis, self.clock)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            http=HeaderDeadlineProtocol,
            limit_concurrency=MAX_CONCURRENCY,
            timeout_graceful_shutdown=10,
        )
        self._server = uvicorn.Server(config)
        await self._server.serve()

    def _started(self) -> bool:
        if self._failed is not None or (self._thread is not None and not self._thread.is_alive()):
            raise RuntimeError(f"bot {self.name} did not start: {self._failed!r}; log: {self._log_tail()}")
        return self._server is not None and self._server.started

    def _log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""

    def __enter__(self) -> Bot:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.terminate()

    def terminate(self, timeout: float = 30.0) -> int:
        """Stop as SIGTERM stops the real one: stop accepting, finish requests, drain background work."""
        if self._server is not None and self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(setattr, self._server, "should_exit", True)
            self._thread.join(timeout)
        if self._handler is not None:
            logging.getLogger().removeHandler(self._handler)
            self._handler.close()
            self._handler = None
        if self._env is not None:
            self._env.__exit__(None, None, None)
            self._env = None
        self._server = None
        return 0

    # The clock and the poller ---------------------------------------------------------------------------------
    def call(self, function: Any, *args: Any) -> None:
        """Run ``function(*args)`` on the bot's event loop."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(function, *args)

    def wake(self) -> None:
        """The poller looks again now (as after an incident opened)."""
        self.call(self.services.poller.wake)

    def advance(self, step: timedelta) -> None:
        """Move the bot's clock on by ``step`` and wake its poller: what fell due meanwhile goes out now. What was due
        before is done first: a lease taken at the old time is not lapsed by the jump while its holder still works."""
        self.ticked()
        self.clock.advance(step)
        self.wake()

    def ticked(self, ticks: int = 2, timeout: float = 10.0) -> None:
        """Until the poller has completed ``ticks`` more ticks (two: one whole tick began after this call) and no
        scheduled post it started is still being made."""
        poller = self.services.poller
        target = poller.ticks + ticks
        deadline = time.monotonic() + timeout
        while poller.ticks < target or poller.busy:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the poller of {self.name} did not tick ({poller.ticks} < {target}) or settle")
            self.wake()
            time.sleep(0.01)

    def settled(self, timeout: float = 10.0) -> None:
        """Until no background work (announcements, thread lines, pages in flight) is left."""
        wait_for(lambda: self.services.tasks.pending == 0, timeout=timeout, what=f"{self.name}'s background work")

    def metrics(self) -> str:
        return httpx.get(f"{self.base_url}/metrics", timeout=5).text


def past_next_minute(clock: MovableClock, *bots: Bot) -> None:
    """Move ``clock`` one second past the next whole minute (a ``* * * * *`` cron's next tick) and wake ``bots``."""
    for bot in bots:
        bot.ticked()
    now = clock()
    clock.advance(timedelta(seconds=60 - now.second + 1) - timedelta(microseconds=now.microsecond))
    for bot in bots:
        bot.wake()
