"""Shared by the collaboration and permission tests: a config with incident channels, a bot on a given Redis."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.clock import MovableClock
from bot.oncall.rotation import Handoff, anchor_for
from tests.support.harness import Bot
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import Call, SlackRecorder


def collab_config(path: Path, remind_after: str = "30m", private: bool = False, responders: str = "[]") -> Path:
    anchor = anchor_for(datetime.now(UTC), Handoff.parse("mon 09:00"), ZoneInfo("Europe/Berlin"))
    path.write_text(
        textwrap.dedent(
            f"""
            channels: {{incidents: C0INCIDENTS, stakeholders: C0STATUS}}
            incident_channels: {{enabled: true, min_severity: P2, archive_on_close: true, private: {str(private).lower()}}}
            updates: {{remind_after: {remind_after}}}
            oncall:
              timezone: Europe/Berlin
              rotation: [U0ALICE, U0BOB]
              lead: U0LEAD
              rotation_start: {anchor.isoformat()}
            permissions: {{operators: [U0OPS], responders: {responders}}}
            """
        )
    )
    return path


def start(
    tmp: Path, recorder: SlackRecorder, redis: RedisServer, config: Path, name: str = "bot",
    clock: MovableClock | None = None,
) -> Bot:  # fmt: skip
    return Bot(
        redis_url=redis.url, slack_api_url=recorder.api_url, config_path=config, log_path=tmp / f"{name}.log",
        clock=clock,
    ).start()  # fmt: skip


def number_of(reply: str) -> int:
    return int(reply.split("*INC-")[1].split("*", maxsplit=1)[0])


def posts_to(recorder: SlackRecorder, channel: str) -> list[Call]:
    return [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == channel]
