"""Parsing the action item commands (pure): ``/incident action INC-n <text> [@owner] [--due=YYYY-MM-DD]`` and
``/incident actions [INC-n | --mine | --open]``. Every refusal says what was wrong and the right form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core import words
from bot.core.errors import UserError
from bot.core.ids import mentioned_user
from bot.incidents.model import parse_ref

ACTION_MAX = 300
ACTION_USAGE = "Write `/incident action INC-n <what is to be done> [@owner] [--due=2026-12-15]`."
ACTIONS_USAGE = "Write `/incident actions [INC-n | --mine | --open]`."


@dataclass(frozen=True)
class NewAction:
    number: int
    text: str
    owner: str | None
    due: date | None


@dataclass(frozen=True)
class ListActions:
    number: int | None = None  # one incident's
    mine: bool = False  # the asker's, open
    open: bool = False  # everyone's, open


def _due(value: str, today: date) -> date:
    try:
        due = date.fromisoformat(value)
    except ValueError:
        raise UserError(f"`--due={value[:20]}` is not a date; write it as --due=2026-12-15.") from None
    if len(value) != 10 or due < today:
        raise UserError(f"`--due={value[:20]}` is not a date from today on (YYYY-MM-DD). {ACTION_USAGE}")
    return due


def parse_action(args: list[str], today: date, room: int | None) -> NewAction:
    """``args``: the words after ``action``; ``room``: the incident whose channel this is, if any."""
    number = parse_ref(args[0]) if args else None
    if number is not None:
        args = args[1:]
    elif room is not None:
        number = room
    else:
        raise UserError(f"Which incident? {ACTION_USAGE}")
    owner: str | None = None
    due: date | None = None
    rest: list[str] = []
    for word in args:
        if word.lower().startswith("--due="):
            if due is not None:
                raise UserError(f"One `--due` at most. {ACTION_USAGE}")
            due = _due(word.split("=", 1)[1], today)
        elif word.startswith("--"):
            raise UserError(f"`{word[:20]}` is not an option here. {ACTION_USAGE}")
        elif mentioned_user(word) is not None and owner is None:
            owner = mentioned_user(word)
        else:
            rest.append(word)
    text = words.check_text(" ".join(rest), "action item", ACTION_MAX)
    if not text:
        raise UserError(f"Say what is to be done. {ACTION_USAGE}")
    return NewAction(number, text, owner, due)


def parse_actions(args: list[str], room: int | None) -> ListActions:
    match [a.lower() for a in args]:
        case []:
            return ListActions(number=room) if room is not None else ListActions(open=True)
        case ["--mine"]:
            return ListActions(mine=True)
        case ["--open"]:
            return ListActions(open=True)
        case [ref] if parse_ref(ref) is not None:
            return ListActions(number=parse_ref(ref))
    raise UserError(ACTIONS_USAGE)


def parse_form(
    number: int, rows: list[tuple[str, str | None, str]], today: date
) -> tuple[list[NewAction], dict[str, str]]:
    """The form's rows (what, owner, due) as action items, or errors by block id (``text_<k>``, ``due_<k>``)."""
    items: list[NewAction] = []
    errors: dict[str, str] = {}
    for row, (typed, owner, due) in enumerate(rows, 1):
        try:
            what = words.check_text(typed, "action item", ACTION_MAX)
        except UserError as exc:
            errors[f"text_{row}"] = str(exc)
            continue
        if not what:
            if owner or due:
                errors[f"text_{row}"] = "Say what is to be done (or clear this row)."
            continue
        try:
            when = _due(due, today) if due else None
        except UserError as exc:
            errors[f"due_{row}"] = str(exc)
            continue
        items.append(NewAction(number, what, owner, when))
    if not items and not errors:
        errors["text_1"] = "Write at least one action item."
    return items, errors
