"""Paging benchmark; writes its section of bench/RESULTS.md.

200 P1 incidents opened at once, nobody acknowledging: their first SMS (the rule's "sms after 1m") all fall due in the
same poller tick. Measured: the wall time from that tick until Twilio (the stand-in of tests/support/twilio.py, its own
thread) has received every SMS request (target ≤ 2 s), and that none was sent twice. The bot runs whole in this
process (tests/support/harness.py: the web app under uvicorn, its poller, a real redis-server), the Slack stand-in in a
process of its own; the bot's clock is moved on instead of waiting a minute.

Run: ``python -m bench.paging`` (part of ``make bench``).
"""

from __future__ import annotations

import tempfile
import textwrap
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.results import machine_info, write_section
from bot.core.clock import MovableClock
from tests.support.bot_process import SignedSlack
from tests.support.harness import Bot
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import RecorderProcess
from tests.support.twilio import ACCOUNT_SID, ALICE_PHONE, AUTH_TOKEN, FROM_NUMBER, TwilioStandIn

INCIDENTS = 200


def main() -> None:
    redis, slack_api, twilio = RedisServer().start(), RecorderProcess().start(), TwilioStandIn()
    tmp = Path(tempfile.mkdtemp(prefix="bench-paging-"))
    config = tmp / "chatops.yaml"
    config.write_text(
        textwrap.dedent(
            f"""
            channels: {{incidents: C0INCIDENTS}}
            oncall: {{timezone: UTC, rotation: [U0ALICE, U0BOB], lead: U0LEAD}}
            paging:
              contacts: {{U0ALICE: {{phone: "{ALICE_PHONE}"}}}}
              rules: {{P1: ["slack", "sms after 1m"]}}
              twilio: {{account_sid: {ACCOUNT_SID}, from_number: "{FROM_NUMBER}", api_url: "{twilio.url}"}}
            """
        )
    )
    clock = MovableClock()
    bot = Bot(redis_url=redis.url, slack_api_url=slack_api.api_url, config_path=config, log_path=tmp / "bot.log",
              clock=clock, extra_env={"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "LOG_LEVEL": "INFO"}).start()  # fmt: skip
    slack = SignedSlack(bot.base_url, slack_api.response_url)
    try:
        for i in range(INCIDENTS):
            slack.command(f"open P1 Checkout shard {i} returns 500s", user="U0REPORTER")
        bot.settled(timeout=120)
        bot.ticked()
        clock.advance(timedelta(minutes=1, seconds=1))
        started = time.perf_counter()
        bot.wake()
        times: list[float] = []
        while len(twilio.messages()) < INCIDENTS and time.perf_counter() - started < 60:
            time.sleep(0.005)
            times.append(time.perf_counter() - started)
        took = time.perf_counter() - started
        bot.ticked()
        bot.settled(timeout=60)
        sent = twilio.messages()
        per_incident = Counter(m.fields["Body"].split(" ")[0] for m in sent)
        twice = sum(1 for n in per_incident.values() if n > 1)
    finally:
        slack.close()
        bot.terminate()
        twilio.stop()
        slack_api.stop()
        redis.cleanup()
    lines = [
        "## Paging: 200 first SMS due in one tick",
        "",
        f"Command: `python -m bench.paging` (part of `make bench`), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        f"Machine: {machine_info()}.",
        "Setup: the whole bot in this process (web app under uvicorn, its poller, a real `redis-server`), the Slack",
        "stand-in in its own process, Twilio's stand-in in a thread. 200 P1 incidents opened by `/incident open`, each",
        "paged in Slack; then the clock moves past the rule's `sms after 1m` so every first SMS is due in one tick.",
        "Measured: the wall time from that tick until Twilio has received every SMS request.",
        "",
        "| SMS due together | all received within | sent twice | target |",
        "|---:|---:|---:|---|",
        f"| {INCIDENTS} ({len(sent)} received) | {took:.2f} s | {twice} | ≤ 2 s, none twice |",
    ]
    write_section("paging", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
