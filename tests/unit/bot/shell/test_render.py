"""Block Kit and mrkdwn as the shell shows them (pure)."""

from __future__ import annotations

from bot.shell.render import Names, blocks, mrkdwn, options

NAMES = Names({"U0ALICE": "alice"}, {"C0INCIDENTS": "incidents"})


def test_mrkdwn_reads_as_text() -> None:
    text = mrkdwn(
        "*INC-1* by <@U0ALICE> in <#C0INCIDENTS> and <#C0NEW|inc-1-db>: <https://x.example|docs>, <!here>, &lt;b&gt; `x`",
        NAMES,
    )
    assert text.plain == "INC-1 by @alice in #incidents and #inc-1-db: docs (https://x.example), @here, <b> x"
    assert any(span.style == "bold" for span in text.spans)
    assert NAMES.channel("D0ALICE") == "DM with @alice" and NAMES.user("U0ZED") == "@U0ZED"


def test_blocks_number_what_can_be_clicked() -> None:
    message = [
        {"type": "header", "text": {"type": "plain_text", "text": "Title"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*A*\n1"},
                {"type": "mrkdwn", "text": "*B*\n2"},
                {"type": "mrkdwn", "text": "*C*\n3"},
            ],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "pick"},
            "accessory": {
                "type": "static_select",
                "action_id": "s",
                "placeholder": {"type": "plain_text", "text": "Pick"},
                "options": [{"value": "v1", "text": {"type": "plain_text", "text": "One"}}],
            },
        },
        {
            "type": "actions",
            "block_id": "b",
            "elements": [
                {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}, "value": "1"},
                {
                    "type": "button",
                    "action_id": "out",
                    "text": {"type": "plain_text", "text": "Docs"},
                    "url": "https://x",
                },
            ],
        },
        {"type": "mystery"},
    ]
    text, clickable = blocks(message, NAMES)
    assert text.plain.splitlines() == ["Title", "A: 1    B: 2", "C: 3", "pick  [1 ▾ Pick]", "[2 Go] [3 Docs ↗]"]
    assert [c.label for c in clickable] == ["Pick", "Go", "Docs"]
    assert options(clickable[0].element) == [("v1", "One")]
    assert blocks([], NAMES, "fallback <@U0ALICE>")[0].plain == "fallback @alice"
