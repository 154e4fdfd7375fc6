"""Reading what the bot answered through response_url (as recorded by the Slack stand-in), and its buttons."""

from __future__ import annotations

from typing import Any

from tests.support.net import wait_for
from tests.support.slack_recorder import SlackRecorder, text_of_blocks

THREAD = "1700000000.000001"  # the clicked message of SignedSlack.click_body


def replies(recorder: SlackRecorder, since: int) -> list[dict[str, Any]]:
    return [c.params for c in recorder.of("response_url")[since:]]


def reply_text(reply: dict[str, Any]) -> str:
    """A reply's text and the text of its blocks."""
    return f"{reply.get('text')}\n{text_of_blocks(reply.get('blocks') or [])}"


def wait_reply(recorder: SlackRecorder, since: int, phrase: str, timeout: float = 20) -> dict[str, Any]:
    """The first reply since ``since`` whose text or blocks contain ``phrase``."""
    found = wait_for(
        lambda: next((r for r in replies(recorder, since) if phrase in reply_text(r)), None),
        timeout=timeout,
        what=phrase,
    )
    assert isinstance(found, dict)
    return found


def buttons_of(message: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    return [
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("action_id") == action_id
    ]


def thread_posts(recorder: SlackRecorder, phrase: str, thread: str = THREAD) -> list[str]:
    """Progress under the clicked message: the reply posted in its thread, then each edit, containing ``phrase``."""
    posted = [c for c in recorder.of("chat.postMessage") if c.params.get("thread_ts") == thread]
    edits = recorder.of("chat.update")
    return [str(c.params["text"]) for c in posted + edits if phrase in str(c.params.get("text"))]
