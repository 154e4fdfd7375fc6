"""Who may do what, and what user text may do in Slack: updates and post-mortems need a responder, a Slack
Connect guest is not a responder by default, a private incident is read by its members and operators only,
and raw `<!everyone>` or disguised links never reach a message's text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bot_process import SignedSlack, ack_text
from tests.support.collab import collab_config, number_of, posts_to, start
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder


def mrkdwn_of(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [str(node["text"])] if node.get("type") == "mrkdwn" else []
        return own + [t for value in node.values() for t in mrkdwn_of(value)]
    if isinstance(node, list):
        return [t for value in node for t in mrkdwn_of(value)]
    return []


HOSTILE = "<!everyone> reset your password at <https://evil.example|https://sso.corp.example/reset>"


@pytest.fixture
def fresh_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def gated(tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer) -> Iterator[tuple[Bot, SignedSlack]]:
    recorder.reset()
    bot = start(
        tmp_path, recorder, fresh_redis, collab_config(tmp_path / "c.yaml", responders="[U0ALICE, U0BOB, U0LEAD]")
    )
    slack = SignedSlack(bot.base_url, recorder.response_url)
    yield bot, slack
    slack.close()
    bot.terminate()


def test_updates_and_postmortems_need_a_responder(gated: tuple[Bot, SignedSlack], recorder: SlackRecorder) -> None:
    _, slack = gated
    number = number_of(ack_text(slack.command("open P3 Printer on fire", user="U0ALICE")))
    refused = ack_text(slack.command(f"update INC-{number} all fine, nothing to see", user="U0MALLORY"))
    assert "Only incident responders may post status updates" in refused
    assert "Only incident responders may draft post-mortems" in ack_text(
        slack.command(f"postmortem INC-{number}", user="U0MALLORY")
    )
    since = len(recorder.of("response_url"))
    slack.click("incident_postmortem", str(number), user="U0MALLORY")
    wait_for(lambda: len(recorder.of("response_url")) > since, what="the refusal of the button")
    assert "Only incident responders" in recorder.of("response_url")[-1].params["text"]
    assert not recorder.of("files.getUploadURLExternal")
    assert "*status update*" not in ack_text(slack.command(f"timeline INC-{number}", user="U0ALICE"))
    assert "posted to the incident" in ack_text(slack.command(f"update INC-{number} on it", user="U0BOB"))


def test_user_text_is_escaped_in_every_text_field(tmp_path: Path, recorder: SlackRecorder, bot: Bot) -> None:
    recorder.reset()
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        number = number_of(ack_text(slack.command("open P3 <!channel> checkout down", user="U0ALICE")))
        ack_text(slack.command(f"update INC-{number} {HOSTILE}", user="U0ALICE"))
        wait_for(lambda: posts_to(recorder, "C0STATUS"), what="the stakeholder post")
        announcement = wait_for(
            lambda: [c for c in posts_to(recorder, "C0INCIDENTS") if f"INC-{number} [P3]" in str(c.params.get("text"))],
            what="the announcement",
        )[0]  # type: ignore[index]
        stakeholders = next(c for c in posts_to(recorder, "C0STATUS") if f"INC-{number}:" in str(c.params.get("text")))
        for call in (announcement, stakeholders):
            # Every field Slack reads as mrkdwn: the text, and mrkdwn objects in blocks (plain_text shows as is).
            read = " ".join([str(call.params["text"]), *mrkdwn_of(call.params_blocks())])
            assert "<!everyone>" not in read and "<!channel>" not in read, read
            assert "<https://evil.example" not in read, read
        assert "&lt;!everyone&gt;" in stakeholders.params["text"]
        assert "&lt;!channel&gt;" in announcement.params["text"]
    finally:
        slack.close()


def test_a_guest_from_another_organisation_is_not_a_responder(slack: SignedSlack) -> None:
    """``responders: []`` means everyone of this workspace; Slack Connect brings people of other ones."""
    number = number_of(ack_text(slack.command("open P3 Shared channel question", user="U0ALICE")))
    guest = ack_text(slack.command(f"ack INC-{number}", user="U0GUEST", team="T0OTHERORG"))
    assert "Only incident responders may acknowledge incidents" in guest
    assert "is now *acknowledged*" in ack_text(slack.command(f"ack INC-{number}", user="U0BOB"))


def test_a_private_incident_is_read_by_its_members_and_operators(
    tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    recorder.reset()
    bot = start(tmp_path, recorder, fresh_redis, collab_config(tmp_path / "c.yaml", private=True))
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        number = number_of(ack_text(slack.command("open P1 Card data exposure suspected", user="U0REPORTER")))
        recorder.wait_for_calls("conversations.invite", 1)
        for verb in ("status", "timeline"):
            outsider = ack_text(slack.command(f"{verb} INC-{number}", user="U0OUTSIDER"))
            assert "is private" in outsider and "Card data" not in outsider
            assert "Card data" in ack_text(slack.command(f"{verb} INC-{number}", user="U0REPORTER"))
            assert "Card data" in ack_text(slack.command(f"{verb} INC-{number}", user="U0OPS"))
        # Nobody commands it yet, but an outsider cannot take it (and so be invited into the channel).
        assert "is private" in ack_text(slack.command(f"assign INC-{number} <@U0OUTSIDER>", user="U0OUTSIDER"))
        invited = {u for c in recorder.of("conversations.invite") for u in c.params["users"].split(",")}
        assert "U0OUTSIDER" not in invited
    finally:
        slack.close()
        bot.terminate()


def test_commander_line_and_a_commander_assigned_while_the_channel_is_created(
    tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    recorder.reset()
    bot = start(tmp_path, recorder, fresh_redis, collab_config(tmp_path / "c.yaml"))
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        gate = recorder.hold("conversations.create")
        number = number_of(ack_text(slack.command("open P1 Slow channel", user="U0REPORTER")))
        recorder.wait_for_calls("conversations.create", 1)
        assert "now the commander" in ack_text(slack.command(f"assign INC-{number} <@U0CAROL>", user="U0OPS"))
        gate.set()
        wait_for(
            lambda: any("U0CAROL" in c.params.get("users", "") for c in recorder.of("conversations.invite")),
            what="the commander invited into the new channel",
        )
        line = wait_for(
            lambda: [c for c in recorder.of("chat.postMessage") if "commander assigned" in str(c.params.get("text"))],
            what="the thread line",
        )[0]  # type: ignore[index]
        assert "<@U0CAROL>" in line.params["text"] and "&lt;@" not in line.params["text"]
    finally:
        slack.close()
        bot.terminate()
