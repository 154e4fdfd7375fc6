"""Shared by the escalation and high-availability tests: the escalation config, bots on one Redis sharing one
clock, and what the Slack stand-in saw of pages."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.clock import MovableClock
from bot.oncall.rotation import Handoff, anchor_for
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.slack_recorder import Call, SlackRecorder

TZ = "Europe/Berlin"
P1_WINDOW = timedelta(minutes=15)
REPEAT = timedelta(minutes=10)


def escalation_config(
    path: Path,
    *,
    handoff: str = "mon 09:00",
    extra: str = "",
    repeat_every: str = "10m",
    claim_lease: str = "60s",
    p1: str = "15m",
    retry: str = "30s",
) -> Path:
    anchor = anchor_for(datetime.now(UTC), Handoff.parse(handoff), ZoneInfo(TZ))
    path.write_text(
        textwrap.dedent(
            f"""
            channels: {{incidents: C0INCIDENTS}}
            severities:
              P1: {{ack_within: {p1}}}
              P2: {{ack_within: 1h}}
              P3: {{ack_within: 4h}}
            escalation: {{repeat_every: {repeat_every}, claim_lease: {claim_lease}, retry_failed_page_after: {retry}}}
            oncall:
              timezone: {TZ}
              handoff: "{handoff}"
              rotation: [U0ALICE, U0BOB]
              lead: U0LEAD
              rotation_start: {anchor.isoformat()}
            permissions: {{operators: [U0OPS]}}
            """
        )
        + extra
    )
    return path


class Rig:
    """Bots on a fresh Redis (so INC numbers restart), sharing one clock; the recorder's log is cleared to match."""

    def __init__(self, tmp: Path, recorder: SlackRecorder, redis_url: str, config: Path) -> None:
        self.tmp, self.recorder, self.redis_url, self.config = tmp, recorder, redis_url, config
        self.bots: list[Bot] = []
        self.clock = MovableClock()
        recorder.reset()

    def start(self, name: str) -> Bot:
        bot = Bot(
            redis_url=self.redis_url,
            slack_api_url=self.recorder.api_url,
            config_path=self.config,
            log_path=self.tmp / f"{name}.log",
            clock=self.clock,
        ).start()
        self.bots.append(bot)
        return bot

    def advance(self, step: timedelta) -> None:
        """Every bot's clock moves on (they share it) and each poller looks at once; what was due before is done
        first (a lease taken at the old time is not lapsed by the jump while its holder still works)."""
        self.ticked()
        self.clock.advance(step)
        for bot in self.bots:
            bot.wake()

    def ticked(self) -> None:
        """Every bot's poller has looked at the clock as it is now (absence checks follow this)."""
        for bot in self.bots:
            bot.ticked()

    def stop(self) -> None:
        for bot in self.bots:
            bot.terminate()
        # Its INC numbers restarted: a later test of the session-wide stand-in must not find these messages.
        self.recorder.reset()


def checklists(recorder: SlackRecorder) -> list[Call]:
    return [c for c in recorder.of("chat.postMessage") if c.params.get("text") == "On-call hand-off checklist"]


def dms(recorder: SlackRecorder, number: int, user: str | None = None, bots: Iterable[Bot] | None = None) -> list[Call]:
    """The page DMs of INC-``number`` (to ``user``), sent by ``bots`` (by default any: every bot of the test shares
    the Slack stand-in with the bots of earlier tests, whose incident numbers may be the same)."""
    names = None if bots is None else {b.name for b in bots}
    return [
        c
        for c in recorder.of("chat.postMessage")
        if str(c.params.get("channel", "")).startswith("D")
        and f"paged for INC-{number} (" in str(c.params.get("text", ""))
        and (user is None or c.params["channel"] == "D" + user[1:])
        and (names is None or c.bot in names)
    ]


def assert_paged_once(slack: SignedSlack, number: int) -> None:
    """The page reaches the timeline (it is recorded right after the DM) exactly once."""
    wait_for(lambda: "*was paged*" in ack_text(slack.command(f"timeline INC-{number}")), what="page on the timeline")
    assert ack_text(slack.command(f"timeline INC-{number}")).count("*was paged*") == 1


def open_p(slack: SignedSlack, severity: str, title: str) -> int:
    text = ack_text(slack.command(f"open {severity} {title}", user="U0REPORTER"))
    return int(text.split("*INC-")[1].split("*")[0])
