"""Incident channels, the commander, status updates and reminders, and the post-mortem draft, over the wire."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import MovableClock
from bot.shell.slack import Event
from tests.support.bot_process import SignedSlack, ack_text, run_cli
from tests.support.collab import collab_config, number_of, posts_to, start
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import Call, SlackRecorder, text_of_blocks


@pytest.fixture
def fresh_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


def test_p1_gets_a_channel_with_people_and_pinned_summary(
    tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    recorder.reset()
    recorder.taken_names.add("inc-1-checkout-api-returns-500s")  # someone already has that name
    bot = start(tmp_path, recorder, fresh_redis, collab_config(tmp_path / "c.yaml"))
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        number = number_of(ack_text(slack.command("open P1 Checkout API returns 500s", user="U0REPORTER")))
        creates = recorder.wait_for_calls("conversations.create", 2)
        assert [c.params["name"] for c in creates] == [
            "inc-1-checkout-api-returns-500s",
            "inc-1-checkout-api-returns-500s-2",
        ]
        invite = recorder.wait_for_calls("conversations.invite", 1)[0]
        room = invite.params["channel"]
        assert set(invite.params["users"].split(",")) == {"U0REPORTER", "U0ALICE"}
        pin = recorder.wait_for_calls("pins.add", 1)[0]
        assert pin.params["channel"] == room
        assert "Checkout API returns 500s" in text_of_blocks(posts_to(recorder, room)[0].params_blocks())
        wait_for(
            lambda: any(f"<#{room}>" in text_of_blocks(c.params_blocks()) for c in recorder.of("chat.update")),
            what="announcement links the channel",
        )

        # Inside the channel the id may be left out.
        assert "now *acknowledged*" in ack_text(slack.command("ack", user="U0BOB", channel=room))
        assert f"INC-{number}" in ack_text(slack.command("status", channel=room))
        # A P3 gets no channel (min_severity P2).
        ack_text(slack.command("open P3 Minor glitch"))
        bot.settled()  # the background work of that open has run
        assert len(recorder.of("conversations.create")) == 2

        assert "now *resolved*" in ack_text(slack.command("resolve", user="U0BOB", channel=room))
        assert "now *closed*" in ack_text(slack.command("close", user="U0BOB", channel=room))
        archive = recorder.wait_for_calls("conversations.archive", 1)[0]
        assert archive.params["channel"] == room
        timeline = ack_text(slack.command(f"timeline INC-{number}"))
        assert "*channel created*" in timeline and "no post-mortem drafted" in timeline
    finally:
        slack.close()
        bot.terminate()


def test_commander_updates_and_stakeholders(tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer) -> None:
    recorder.reset()
    bot = start(tmp_path, recorder, fresh_redis, collab_config(tmp_path / "c.yaml"))
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        number = number_of(ack_text(slack.command("open P2 Payments slow", user="U0REPORTER")))
        room = recorder.wait_for_calls("conversations.invite", 1)[0].params["channel"]
        # While nobody commands, a responder may take the role only themselves; an operator may assign anyone.
        refused = ack_text(slack.command(f"assign INC-{number} <@U0CAROL>", user="U0BOB"))
        assert "Nobody commands" in refused and "you may take it yourself" in refused
        assert "now the commander" in ack_text(slack.command(f"assign INC-{number} <@U0CAROL|carol>", user="U0OPS"))
        assert "already the commander" in ack_text(slack.command(f"assign INC-{number} <@U0CAROL>", user="U0OPS"))
        # Then only the commander hands over (or an operator reassigns): nobody takes it by assigning themselves.
        assert "Only the commander (<@U0CAROL>) or an operator may reassign" in ack_text(
            slack.command(f"assign INC-{number} <@U0BOB>", user="U0BOB")
        )
        wait_for(
            lambda: any("U0CAROL" in c.params.get("users", "") for c in recorder.of("conversations.invite")),
            what="commander invited",
        )
        # Only the commander (or an operator) may change the severity or close now.
        assert "Only the commander (<@U0CAROL>)" in ack_text(slack.command(f"severity INC-{number} P1", user="U0BOB"))
        assert "now P1" in ack_text(slack.command(f"severity INC-{number} P1", user="U0CAROL"))
        assert "now P2" in ack_text(slack.command(f"severity INC-{number} P2", user="U0OPS"))

        reply = ack_text(slack.command(f"update INC-{number} Rolled back 2.4.1 → 2.4.0; errors falling", user="U0BOB"))
        assert "posted to the incident and <#C0STATUS>" in reply
        wait_for(lambda: posts_to(recorder, "C0STATUS"), what="stakeholder post")
        stakeholder = text_of_blocks(posts_to(recorder, "C0STATUS")[0].params_blocks())
        assert (
            "Status update — INC-" in stakeholder
            and "Rolled back 2.4.1 → 2.4.0" in stakeholder
            and "<@U0CAROL>" in stakeholder
        )
        wait_for(
            lambda: any("Rolled back" in text_of_blocks(c.params_blocks()) for c in posts_to(recorder, room)),
            what="update in the channel",
        )
        timeline = ack_text(slack.command(f"timeline INC-{number}"))
        assert "*commander assigned*" in timeline and "*status update*" in timeline and "Rolled back" in timeline

        # The announcement's commander picker works too: the commander hands over to Dave.
        body = slack.click_body("incident_assign", "", user="U0CAROL")
        body = body.replace(
            "%22block_id%22%3A%20%22incident_actions%22",
            f"%22block_id%22%3A%20%22incident_actions_{number}%22%2C%20%22selected_user%22%3A%20%22U0DAVE%22",
        )
        assert slack.post(body, "application/x-www-form-urlencoded").status_code == 200
        wait_for(lambda: "<@U0DAVE>" in ack_text(slack.command(f"status INC-{number}")), what="commander picked")

        listing = ack_text(slack.command("list --recent"))
        assert "Incidents of the last 30 days: 1" in listing and "*P2*: 1" in listing
    finally:
        slack.close()
        bot.terminate()


def test_update_reminder_fires_once_per_interval_across_replicas(
    tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    recorder.reset()
    config = collab_config(tmp_path / "c.yaml", remind_after="30m")
    clock = MovableClock()
    a = start(tmp_path, recorder, fresh_redis, config, "a", clock)
    b = start(tmp_path, recorder, fresh_redis, config, "b", clock)
    slack = SignedSlack(a.base_url, recorder.response_url)

    def advance(step: timedelta) -> None:
        for bot in (a, b):
            bot.ticked()
        clock.advance(step)
        for bot in (a, b):
            bot.wake()
            bot.ticked()

    try:
        number = number_of(ack_text(slack.command("open P1 Quiet incident", user="U0REPORTER")))

        def reminders() -> list[Call]:
            return [
                c
                for c in recorder.of("chat.postMessage")
                if "no status update on" in str(c.params.get("text")) and f"INC-{number}" in str(c.params.get("text"))
            ]

        advance(timedelta(minutes=29))
        assert not reminders()  # quiet for less than updates.remind_after
        advance(timedelta(minutes=1, seconds=1))
        wait_for(reminders, what="first reminder")
        advance(timedelta(minutes=29))  # the rest of the interval: no second reminder, from either replica
        assert len(reminders()) == 1
        advance(timedelta(minutes=1))
        wait_for(lambda: len(reminders()) == 2, what="second interval's reminder")
        ack_text(slack.command(f"update INC-{number} Investigating", user="U0ALICE"))
        count = len(reminders())
        advance(timedelta(minutes=29))
        assert len(reminders()) == count  # an update resets the clock
    finally:
        slack.close()
        a.terminate()
        b.terminate()


def test_a_postmortem_uploaded_as_redis_stalls_is_not_said_undone_and_lands_on_the_timeline(
    tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    """Redis stops answering the instant Slack completes the draft's upload: nobody is told "Nothing was changed"
    about a draft in the channel, and its timeline entry is written once Redis answers again (one upload)."""
    recorder.reset()
    bot = start(tmp_path, recorder, fresh_redis, collab_config(tmp_path / "c.yaml"))
    slack = SignedSlack(bot.base_url, recorder.response_url)

    def stall_at_the_upload(event: Event) -> None:  # on the stand-in's thread, before Slack answers
        if event.kind == "file":
            fresh_redis.stall()

    try:
        number = number_of(ack_text(slack.command("open P2 Queue backlog", user="U0REPORTER")))
        ack_text(slack.command(f"resolve INC-{number}", user="U0ALICE"))
        bot.settled()
        since = len(recorder.of("response_url"))
        listener, recorder.listener = recorder.listener, stall_at_the_upload
        try:
            ack_text(slack.command(f"postmortem INC-{number}", user="U0ALICE"))
            recorder.wait_for_calls("files.completeUploadExternal", 1)
            wait_for(lambda: "not written yet" in bot.log_path.read_text(errors="replace"),
                     what="the bot finding Redis away after the upload")  # fmt: skip
        finally:
            recorder.listener = listener
            fresh_redis.resume()
        wait_for(lambda: "*post-mortem drafted*" in ack_text(slack.command(f"timeline INC-{number}")), timeout=30,
                 what="the draft on the timeline")  # fmt: skip
        bot.settled()
        said = [str(c.params.get("text")) for c in recorder.of("response_url")[since:]]
        assert not [t for t in said if "Nothing was changed" in t or "went wrong" in t], said
        assert len(recorder.of("upload")) == 1
    finally:
        slack.close()
        bot.terminate()


def test_postmortem_uploaded_and_written_locally(
    tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    recorder.reset()
    config = collab_config(tmp_path / "c.yaml")
    bot = start(tmp_path, recorder, fresh_redis, config)
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        number = number_of(ack_text(slack.command("open P1 Database failover", user="U0REPORTER")))
        room = recorder.wait_for_calls("conversations.invite", 1)[0].params["channel"]
        ack_text(slack.command(f"ack INC-{number}", user="U0ALICE"))
        ack_text(slack.command(f"mitigate INC-{number} failed over to replica", user="U0ALICE"))
        ack_text(slack.command(f"resolve INC-{number}", user="U0ALICE"))
        assert "Drafting the post-mortem" in ack_text(slack.command(f"postmortem INC-{number}", user="U0ALICE"))
        upload = recorder.wait_for_calls("upload", 1)[0]
        markdown = upload.params["content"]
        for heading in (
            "## Summary",
            "## Impact window",
            "## Time to acknowledge",
            "## Timeline",
            "## Actions taken",
            "## Root cause",
            "## Action items",
        ):
            assert heading in markdown
        assert "against a 15m target — met" in markdown and "failed over to replica" in markdown
        assert "CET" in markdown or "CEST" in markdown  # the reader's time zone from users.info
        complete = recorder.wait_for_calls("files.completeUploadExternal", 1)[0]
        assert complete.params.get("channel_id") == room
        wait_for(lambda: "*post-mortem drafted*" in ack_text(slack.command(f"timeline INC-{number}")), what="recorded")
        assert slack.click("incident_postmortem", str(number), user="U0BOB").status_code == 200  # the button
        recorder.wait_for_calls("upload", 2)
        ack_text(slack.command(f"close INC-{number}", user="U0ALICE"))
        closed = [line for line in ack_text(slack.command(f"timeline INC-{number}")).splitlines() if "*closed*" in line]
        assert closed and closed[0].endswith("— post-mortem drafted")

        out = tmp_path / "pm.md"
        env = {"REDIS_URL": fresh_redis.url, "CHATOPS_CONFIG": str(config)}
        result = run_cli("postmortem", f"INC-{number}", "-o", str(out), env=env)
        assert result.returncode == 0, result.stderr
        local = out.read_text()
        assert "## Root cause" in local and "failed over to replica" in local and "post-mortem drafted" in local
        missing = run_cli("postmortem", "INC-999", env=env)
        assert missing.returncode == 1 and "INC-999 does not exist" in missing.stderr
    finally:
        slack.close()
        bot.terminate()


def test_private_incident_channels(tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer) -> None:
    recorder.reset()
    bot = start(tmp_path, recorder, fresh_redis, collab_config(tmp_path / "c.yaml", private=True))
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        ack_text(slack.command("open P1 Card data exposure suspected", user="U0REPORTER"))
        create = recorder.wait_for_calls("conversations.create", 1)[0]
        assert create.params["name"] == "inc-1-card-data-exposure-suspected"
        assert str(create.params["is_private"]).lower() in ("true", "1")
        invite = recorder.wait_for_calls("conversations.invite", 1)[0]
        assert set(invite.params["users"].split(",")) == {"U0REPORTER", "U0ALICE"}
    finally:
        slack.close()
        bot.terminate()
