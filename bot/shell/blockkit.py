"""What Slack refuses in Block Kit, for the Slack stand-in (pure): the documented limits of messages, views and the
blocks, elements and text objects the bot sends. A message or view past one is answered as Slack answers it
(``invalid_blocks``, ``msg_blocks_too_long``, ``msg_too_long``, ``invalid_arguments``) with the reasons in
``response_metadata.messages``, so a test (or a shell user) sees what a real workspace would refuse.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.core.blocks import texts

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 40_000
MESSAGE_BLOCK_TEXT = 12_000  # all text of a message's blocks together (msg_blocks_too_long)
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS = 10
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
URL = 3000
ID = 255  # action_id, block_id, callback_id
OPTION_TEXT = 75
OPTION_VALUE = 150
OPTIONS = 100
PLACEHOLDER = 150
LABEL = 2000
VIEW_TITLE = 24  # a modal's title, submit and close
PRIVATE_METADATA = 3000
CONFIRM = {"title": 100, "text": 300, "confirm": 30, "deny": 30}


class Refused(ValueError):
    """What Slack would answer: its error code and the reasons."""

    def __init__(self, error: str, reasons: list[str]) -> None:
        super().__init__(f"{error}: {'; '.join(reasons)}")
        self.error = error
        self.reasons = reasons


def check_message(text: str, blocks: list[dict[str, Any]]) -> None:
    """Raise Refused for a message (chat.postMessage, chat.update, chat.postEphemeral, a response_url) Slack
    refuses."""
    if len(text) > MESSAGE_TEXT:
        raise Refused("msg_too_long", [f"text is {len(text)} characters, past {MESSAGE_TEXT}"])
    reasons = list(_blocks(blocks, MESSAGE_BLOCKS))
    if reasons:
        raise Refused("invalid_blocks", reasons)
    total = sum(len(t) for t in texts(blocks))
    if total > MESSAGE_BLOCK_TEXT:
        raise Refused("msg_blocks_too_long", [f"the blocks hold {total} characters of text, past {MESSAGE_BLOCK_TEXT}"])


def check_view(view: dict[str, Any]) -> None:
    """Raise Refused for a view (views.open|push|update|publish) Slack refuses."""
    reasons: list[str] = []
    blocks = view.get("blocks") or []
    if view.get("type") == "modal":
        for part in ("title", "submit", "close"):
            reasons += _text(view.get(part), f"/view/{part}", VIEW_TITLE, required=part == "title")
        if not view.get("submit") and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks):
            reasons.append("a modal with input blocks needs a submit button [json-pointer:/view/submit]")
    if len(str(view.get("private_metadata") or "")) > PRIVATE_METADATA:
        reasons.append(f"private_metadata past {PRIVATE_METADATA} characters")
    if len(str(view.get("callback_id") or "")) > ID:
        reasons.append(f"callback_id past {ID} characters")
    reasons += _blocks(blocks if isinstance(blocks, list) else [], VIEW_BLOCKS)
    if reasons:
        raise Refused("invalid_arguments", reasons)


def _blocks(blocks: list[dict[str, Any]], most: int) -> Iterator[str]:
    if len(blocks) > most:
        yield f"{len(blocks)} blocks, past {most} [json-pointer:/blocks]"
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        at = f"/blocks/{i}"
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > ID:
                yield f"block_id past {ID} characters [json-pointer:{at}/block_id]"
            if block_id in block_ids:
                yield f"block_id {block_id!r} used twice in one message [json-pointer:{at}/block_id]"
            block_ids.add(block_id)
        yield from _block(block, at)


def _block(block: dict[str, Any], at: str) -> Iterator[str]:
    kind = block.get("type")
    if kind == "section":
        fields = block.get("fields") or []
        if block.get("text") is None and not fields:
            yield f"a section needs text or fields [json-pointer:{at}]"
        yield from _text(block.get("text"), f"{at}/text", SECTION_TEXT)
        if len(fields) > FIELDS:
            yield f"{len(fields)} fields, past {FIELDS} [json-pointer:{at}/fields]"
        for j, item in enumerate(fields):
            yield from _text(item, f"{at}/fields/{j}", FIELD_TEXT, required=True)
        if block.get("accessory"):
            yield from _element(block["accessory"], f"{at}/accessory")
    elif kind == "header":
        yield from _text(block.get("text"), f"{at}/text", HEADER_TEXT, required=True)
    elif kind == "context":
        elements = block.get("elements") or []
        if not elements or len(elements) > CONTEXT_ELEMENTS:
            yield f"a context holds 1 to {CONTEXT_ELEMENTS} elements, not {len(elements)} [json-pointer:{at}]"
        for j, item in enumerate(elements):
            if item.get("type") in ("plain_text", "mrkdwn"):
                yield from _text(item, f"{at}/elements/{j}", SECTION_TEXT, required=True)
    elif kind == "actions":
        elements = block.get("elements") or []
        if not elements or len(elements) > ACTIONS_ELEMENTS:
            yield f"an actions block holds 1 to {ACTIONS_ELEMENTS} elements, not {len(elements)} [json-pointer:{at}]"
        seen: set[str] = set()
        for j, item in enumerate(elements):
            action_id = item.get("action_id")
            if action_id is not None and action_id in seen:
                yield f"action_id {action_id!r} used twice in one block [json-pointer:{at}/elements/{j}/action_id]"
            seen.add(action_id)
            yield from _element(item, f"{at}/elements/{j}")
    elif kind == "input":
        yield from _text(block.get("label"), f"{at}/label", LABEL, required=True)
        yield from _text(block.get("hint"), f"{at}/hint", LABEL)
        if not block.get("element"):
            yield f"an input needs an element [json-pointer:{at}/element]"
        else:
            yield from _element(block["element"], f"{at}/element")


def _element(element: dict[str, Any], at: str) -> Iterator[str]:
    if len(str(element.get("action_id") or "")) > ID:
        yield f"action_id past {ID} characters [json-pointer:{at}/action_id]"
    yield from _text(element.get("placeholder"), f"{at}/placeholder", PLACEHOLDER)
    if element.get("type") == "button":
        yield from _text(element.get("text"), f"{at}/text", BUTTON_TEXT, required=True)
        if len(str(element.get("value") or "")) > BUTTON_VALUE:
            yield f"value past {BUTTON_VALUE} characters [json-pointer:{at}/value]"
        if len(str(element.get("url") or "")) > URL:
            yield f"url past {URL} characters [json-pointer:{at}/url]"
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    most = {"overflow": 5, "checkboxes": 10, "radio_buttons": 10}.get(str(element.get("type")), OPTIONS)
    if len(options) > most or (element.get("type") == "overflow" and len(options) < 2):
        yield f"{len(options)} options, not within what a {element.get('type')} takes [json-pointer:{at}/options]"
    for j, option in enumerate(options):
        yield from _option(option, f"{at}/options/{j}")
    for j, option in enumerate(element.get("initial_options") or []):
        yield from _option(option, f"{at}/initial_options/{j}")
    if element.get("initial_option"):
        yield from _option(element["initial_option"], f"{at}/initial_option")
    confirm = element.get("confirm")
    if isinstance(confirm, dict):
        for part, most in CONFIRM.items():
            yield from _text(confirm.get(part), f"{at}/confirm/{part}", most)


def _option(option: dict[str, Any], at: str) -> Iterator[str]:
    yield from _text(option.get("text"), f"{at}/text", OPTION_TEXT, required=True)
    yield from _text(option.get("description"), f"{at}/description", OPTION_TEXT)
    if not 0 < len(str(option.get("value") or "")) <= OPTION_VALUE:
        yield f"an option's value is 1 to {OPTION_VALUE} characters [json-pointer:{at}/value]"


def _text(obj: Any, at: str, most: int, *, required: bool = False) -> Iterator[str]:
    if obj is None:
        if required:
            yield f"text is required [json-pointer:{at}]"
        return
    text = str(obj.get("text") if isinstance(obj, dict) else obj)
    if not text:
        yield f"must be more than 0 characters [json-pointer:{at}/text]"
    elif len(text) > most:
        yield f"must be less than {most + 1} characters ({len(text)}) [json-pointer:{at}/text]"
