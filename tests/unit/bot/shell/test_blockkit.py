"""The Slack stand-in refuses what Slack refuses, over HTTP with slack_sdk's own client, and takes what Slack takes."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.support.slack_recorder import SlackRecorder

pytestmark = pytest.mark.slack_refusal


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(action_id: str, text: str = "Go", value: str = "v") -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, "value": value}


def _select(text: str, value: str) -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": text}, "value": value}
    return {"type": "input", "label": {"type": "plain_text", "text": "Pick"},
            "element": {"type": "static_select", "action_id": "pick", "options": [option]}}  # fmt: skip


MESSAGES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "51 blocks": ("invalid_blocks", [_section("x")] * 51),
    "section text 3,001": ("invalid_blocks", [_section("x" * 3001)]),
    "header 151": ("invalid_blocks", [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]),
    "button text 76": ("invalid_blocks", [{"type": "actions", "elements": [_button("a", "t" * 76)]}]),
    "button value 2,001": ("invalid_blocks", [{"type": "actions", "elements": [_button("a", value="v" * 2001)]}]),
    "one action_id twice in a block": (
        "invalid_blocks",
        [{"type": "actions", "elements": [_button("a"), _button("a")]}],
    ),
    "one block_id twice": ("invalid_blocks", [{**_section("a"), "block_id": "b"}, {**_section("b"), "block_id": "b"}]),
    "empty section": ("invalid_blocks", [_section("")]),
    "12,001 characters of block text": ("msg_blocks_too_long", [_section("x" * 3000)] * 4 + [_section("x")]),
}


@pytest.fixture(scope="module")
def web() -> Any:
    stand_in = SlackRecorder().start()
    yield stand_in, WebClient(token="xoxb-test", base_url=stand_in.api_url)
    stand_in.stop()


@pytest.mark.parametrize("case", MESSAGES)
def test_a_message_past_a_limit_is_refused_as_slack_refuses_it(web: Any, case: str) -> None:
    stand_in, client = web
    error, blocks = MESSAGES[case]
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)
    assert refused.value.response["error"] == error
    assert refused.value.response["response_metadata"]["messages"], "Slack says why"
    assert not [m for m in stand_in.messages.values() if m.channel == "C1"], "nothing was posted"


def test_what_slack_takes_is_taken(web: Any) -> None:
    _, client = web
    blocks = [_section("x" * 3000)] * 3 + [{"type": "actions", "elements": [_button("a"), _button("b")]}]
    assert client.chat_postMessage(channel="C2", text="fine", blocks=blocks)["ok"]


def test_a_view_past_its_limits_is_refused(web: Any) -> None:
    _, client = web
    title = {"type": "plain_text", "text": "A title of twenty-five ch"}
    with pytest.raises(SlackApiError) as refused:
        client.views_open(trigger_id="t", view={"type": "modal", "title": title, "blocks": []})
    assert refused.value.response["error"] == "invalid_arguments"
    modal = {"type": "plain_text", "text": "Fine"}
    for text, value in (("o" * 76, "v"), ("o", "v" * 151)):
        with pytest.raises(SlackApiError):
            view = {"type": "modal", "title": modal, "submit": modal, "blocks": [_select(text, value)]}
            client.views_open(trigger_id="t", view=view)
    with pytest.raises(SlackApiError):
        client.views_publish(user_id="U1", view={"type": "home", "blocks": [_section("x")] * 101})
    with pytest.raises(SlackApiError):  # inputs and no submit button
        client.views_open(trigger_id="t", view={"type": "modal", "title": modal, "blocks": [_select("o", "v")]})
    fine = {"type": "modal", "title": modal, "submit": modal, "blocks": [_select("o", "v")]}
    assert client.views_open(trigger_id="t", view=fine)


def test_split_messages_are_each_taken_and_keep_room_for_a_footer() -> None:
    from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

    from bot.core.blocks import messages
    from bot.shell import blockkit

    many = [SectionBlock(text=MarkdownTextObject(text=f"line {i}")) for i in range(120)]
    footer = ContextBlock(elements=[MarkdownTextObject(text="footer")])
    (one,) = messages(many, most=1, reserve=1, cut="cut")
    blockkit.check_message("", [b.to_dict() for b in [*one, footer]])
    assert len(one) == 49 and "cut" in str(one[-1].to_dict())
    parts = messages([SectionBlock(text=MarkdownTextObject(text="x" * 2900))] * 9)
    assert len(parts) == 3 and all(blockkit.check_message("", [b.to_dict() for b in p]) is None for p in parts)
