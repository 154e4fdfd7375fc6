"""Fixtures: real Redis, the Slack stand-in and the bot (in this process) served over HTTP, all on loopback."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.support.bot_process import SignedSlack, ack_text
from tests.support.harness import Bot
from tests.support.redis_server import RedisServer
from tests.support.secrets_scan import leaks
from tests.support.slack_recorder import REFUSED, SlackRecorder

CONFIG = """
channels:
  incidents: C0INCIDENTS
  stakeholders: C0STATUS
severities:
  P1: {ack_within: 15m}
oncall:
  timezone: Europe/Berlin
  rotation: [U0ALICE, U0BOB]
  lead: U0LEAD
permissions:
  responders: {responders}
  operators: [U0ALICE]
"""


def write_config(path: Path, responders: str = "[]") -> Path:
    path.write_text(textwrap.dedent(CONFIG).replace("{responders}", responders))
    return path


@pytest.fixture(autouse=True)
def slack_would_accept(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test checks that real Slack would take what the bot sent: a call the stand-in refused as Slack would
    (``invalid_blocks``, ``msg_blocks_too_long``, a view past its limits) fails the test that made it, unless the
    test is marked ``slack_refusal`` (it asks for one)."""
    before = len(REFUSED)
    yield
    made = REFUSED[before:]
    if made and request.node.get_closest_marker("slack_refusal") is None:
        pytest.fail("Slack would refuse: " + "; ".join(f"{c.method} {c.error}: {c.refused}" for c in made[:3]))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def recorder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackRecorder]:
    rec = SlackRecorder().start()
    yield rec
    rec.stop()
    # Every bot of the session ran at DEBUG: none of its logs may carry a secret or a response_url.
    logs = sorted(tmp_path_factory.getbasetemp().rglob("*.log"))
    assert logs, "no bot logs were captured"
    found = leaks(logs, rec.issued_tokens)
    assert not found, f"secrets in logs: {found}"


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def bot(
    redis_server: RedisServer, recorder: SlackRecorder, tmp_path_factory: pytest.TempPathFactory, logs_dir: Path
) -> Iterator[Bot]:
    config = write_config(tmp_path_factory.mktemp("config") / "chatops.yaml")
    proc = Bot(
        redis_url=redis_server.url, slack_api_url=recorder.api_url, config_path=config, log_path=logs_dir / "bot.log"
    ).start()
    yield proc
    proc.terminate()


@pytest.fixture
def slack(bot: Bot, recorder: SlackRecorder) -> Iterator[SignedSlack]:
    client = SignedSlack(bot.base_url, recorder.response_url)
    yield client
    client.close()


OPENED = re.compile(r"Opened \*INC-(\d+)\*")


@pytest.fixture
def open_incident(slack: SignedSlack) -> Callable[..., int]:
    """Open an incident over the wire and return its number."""

    def opener(severity: str = "P1", title: str = "Checkout API returns 500s", user: str = "U0ALICE") -> int:
        text = ack_text(slack.command(f"open {severity} {title}", user=user))
        match = OPENED.search(text)
        assert match, text
        return int(match.group(1))

    return opener


@pytest.fixture
def state(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client on the bots' Redis, to read the audit stream and seed channel → incident links."""
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client
