"""Bad input gets a short ephemeral message with the right form, changes nothing, and never a 5xx."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.bot_process import SignedSlack, ack_text
from tests.support.harness import Bot
from tests.support.slack_recorder import SlackRecorder


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("frobnicate INC-1", "is not an /incident command"),
        ("open P7 Everything is on fire", "`P7` is not a severity; use P1, P2, P3 or P4"),
        ("open Everything is on fire", "Start with the severity"),
        ("open P1", "Give the incident a title"),
        ("open P1 " + "x" * 5000, "5,008 characters long; commands stop at 4000"),
        ("open P1 " + "y" * 151, "The title is 151 characters long; keep it to 150"),
        ("open P1 bell\u0007in title", "control character (U+0007)"),
        ("open P1 right-to-left \u202e override", "control character (U+202E)"),
        ("ack", "Which incident? Write `/incident ack INC-n"),
        ("ack INC-abc", "`INC-abc` is not an incident id"),
        ("ack INC-999999", "INC-999999 does not exist"),
        ("status", "Which incident?"),
        ("severity INC-1", "Give a severity, P1 to P4"),
        ("severity INC-1 P9", "`P9` is not a severity"),
        ("timeline nope", "is not an incident id"),
        ("update INC-999999 all good", "INC-999999 does not exist"),
        ("update INC-1", "Say what is happening"),
        ("update all good", "`all` is not an incident id"),
        ("assign INC-1 bob", "Name one person"),
        ("assign INC-1", "Name one person"),
        ("timeline INC-1 zz", "`zz` is not a page number"),
        ("list everything", "Write `/incident list`"),
        ("postmortem", "Which incident?"),
    ],
)
def test_bad_command_explains_the_right_form(slack: SignedSlack, text: str, expected: str) -> None:
    def listing() -> str:  # every incident not closed, as listed; ages ("6s old") move on by themselves
        return re.sub(r"[0-9]+[dhms]( [0-9]+[dhms])? old", "… old", ack_text(slack.command("list")))

    before = listing()
    reply = ack_text(slack.command(text))
    assert expected in reply, reply
    assert len(reply) < 1500
    assert listing() == before


def test_help_lists_the_commands(slack: SignedSlack) -> None:
    for text in ("", "help"):
        reply = ack_text(slack.command(text))
        assert "/incident open P1 <title>" in reply and "/incident list" in reply


def test_user_text_cannot_ping_channel_or_forge_links(
    slack: SignedSlack, recorder: SlackRecorder, open_incident: Callable[..., int]
) -> None:
    number = open_incident("P3", "&lt;!channel&gt; see &lt;http://evil|docs&gt;")
    listing = ack_text(slack.command("list"))
    assert "&lt;!channel&gt;" in listing and "<!channel>" not in listing
    blocks = slack.command(f"status INC-{number}").json()["blocks"]
    mrkdwn = [t["text"] for t in _texts(blocks) if t["type"] == "mrkdwn"]
    plain = [t["text"] for t in _texts(blocks) if t["type"] == "plain_text"]
    assert not any("<http://evil" in t or "<!channel>" in t for t in mrkdwn)
    assert any("<!channel> see <http://evil|docs>" in t for t in plain)  # plain text is never parsed by Slack


def _texts(node: object) -> list[dict[str, str]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") in ("mrkdwn", "plain_text") and "text" in node else []
        return found + [t for v in node.values() for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


@pytest.mark.parametrize(
    ("command", "text", "expected"),
    [
        ("/runbook", "", "`crashloop`"),
        ("/runbook", "nope", "`nope` is not a runbook"),
        ("/runbook", "crashloop --help", "previous container logs"),
        ("/runbook", "crashloop ../../etc/passwd", "is not a valid workload name"),
        ("/runbook", "crashloop api --server=https://evil", "is not an option of crashloop"),
        ("/runbook", "crashloop api $(rm -rf /)", "Too many arguments"),
        ("/runbook", "high-error-rate api prod --pattern=(", "not a regular expression"),
        ("/rollback", "", "rollout history"),
        ("/rollback", "API-Gateway production", "is not a valid deployment name"),
        ("/rollback", "api " + "n" * 300, "is not a valid namespace name"),
        ("/rollback", "api-gateway prоduction", "is not a valid namespace name"),  # Cyrillic о
    ],
)
def test_runbook_commands_validate_names_before_any_api_call(
    slack: SignedSlack, command: str, text: str, expected: str
) -> None:
    reply = ack_text(slack.command(text, command=command))
    assert expected in reply, reply


def test_forged_and_stale_requests_are_rejected(slack: SignedSlack, bot: Bot) -> None:
    body = slack.command_body("open P1 forged")
    assert slack.post(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64).status_code == 401
    stale = int(time.time()) - 6 * 60
    assert slack.post(body, "application/x-www-form-urlencoded", timestamp=stale).status_code == 401
    assert "forged" not in ack_text(slack.command("list"))


def test_bad_button_value_is_refused(slack: SignedSlack, recorder: SlackRecorder) -> None:
    before = len(recorder.of("response_url"))
    assert slack.click("incident_acknowledge", "../../etc").status_code == 200
    from tests.support.net import wait_for

    wait_for(lambda: len(recorder.of("response_url")) > before, what="refusal")
    assert "not attached to an incident" in recorder.of("response_url")[-1].params["text"]


COMMAND_WORDS = st.sampled_from(
    [
        "open",
        "ack",
        "mitigate",
        "resolve",
        "reopen",
        "close",
        "status",
        "list",
        "severity",
        "timeline",
        "P1",
        "P9",
        "INC-1",
        "INC-",
        "#3",
        "",
        "help",
    ]
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.one_of(COMMAND_WORDS, st.text(max_size=40)), max_size=6),
    tail=st.one_of(st.just(""), st.text(min_size=0, max_size=300), st.text(alphabet="x", min_size=3990, max_size=4100)),
)
def test_random_command_text_never_5xx(bot: Bot, recorder: SlackRecorder, words: list[str], tail: str) -> None:
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        text = " ".join(words) + (" " + tail if tail else "")
        resp = slack.command(text)
        assert resp.status_code == 200, (text, resp.status_code)
        assert "Traceback" not in resp.text
        opens_modal = [w.lower() for w in text.split()] in (["open"], ["new"], ["declare"])
        assert resp.content or opens_modal, "silence"
    finally:
        slack.close()
