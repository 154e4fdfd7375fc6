from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from bot.incidents.model import Incident, Severity, State, TimelineEntry
from bot.logging_setup import RedactingFormatter, Redactor
from bot.render import announcement_blocks, list_blocks, timeline_blocks

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def make(n: int, title: str = "t") -> Incident:
    return Incident(
        number=n, title=title, severity=Severity.P2, opened_by="U1", opened_at=T0, respond_by=T0 + timedelta(hours=1)
    )


def test_blocks_stay_inside_slack_limits_for_huge_lists() -> None:
    incidents = [make(i, "x" * 150) for i in range(1, 5001)]
    blocks = [b.to_dict() for b in list_blocks(incidents, T0)]  # to_dict() validates Slack's limits
    assert len(blocks) <= 50
    assert "and 4980 more" in json.dumps(blocks)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)


def test_timeline_is_paginated() -> None:
    entries = [TimelineEntry(at=T0, actor="U1", kind="note", text="y" * 400) for _ in range(500)]
    blocks = [b.to_dict() for b in timeline_blocks(make(1), entries, 500)]
    assert len(blocks) <= 50 and "Page 1 of 13 (500 entries)" in json.dumps(blocks)
    assert "/incident timeline INC-1 2" in json.dumps(blocks)
    last = [b.to_dict() for b in timeline_blocks(make(1), entries, 500, page=13)]
    text = json.dumps(last)
    assert "Page 13 of 13" in text and "next:" not in text and text.count("y" * 400) == 20


def test_announcement_offers_only_the_postmortem_when_closed() -> None:
    closed = make(3).model_copy(update={"state": State.CLOSED})
    (actions,) = [b.to_dict() for b in announcement_blocks(closed, T0) if b.to_dict()["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["incident_postmortem"]


def test_redactor_patterns() -> None:
    r = Redactor(["my-signing-secret-123"])
    samples = {
        "token=xoxb-1-2-abc and xapp-1-A-2-xyz": "xox",
        "secret my-signing-secret-123 here": "my-signing",
        '{"response_url": "https://hooks.slack.com/commands/T1/2/abc"}': "hooks.slack",
        "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1&trigger_id=1": "hooks.slack",
        "payload=%7B%22response_url%22%3A%22http%3A%2F%2F127.0.0.1%3A9%2Fresponse%2Fsecretpart%22%7D": "secretpart",
        "{'response_url': 'http://127.0.0.1:9/response/secretpart2'}": "secretpart2",
        "Authorization: Bearer abc.def": "abc.def",
        "key AKIAABCDEFGHIJKLMNOP": "AKIA",
    }
    for text, needle in samples.items():
        assert needle not in r(text), text


def test_learned_values_and_exceptions_are_redacted() -> None:
    r = Redactor()
    r.learn("http://example.test/response/learned-value")
    formatter = RedactingFormatter(r, json_lines=True)
    try:
        raise ValueError("boom http://example.test/response/learned-value")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("xoxb-9-9-zz",), sys.exc_info())
    out = formatter.format(record)
    assert "learned-value" not in out and "xoxb-9" not in out and json.loads(out)["level"] == "error"
