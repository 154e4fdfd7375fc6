"""Value types of the config file (pure): Slack ids, durations, time zones, cron expressions, URLs."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from bot.core.durations import parse_duration
from bot.core.ids import CHANNEL_ID, GROUP_ID, USER_ID

_CRON_FIELD = re.compile(r"^[0-9A-Za-z*,/\-?]+$")


def _channel_id(value: str) -> str:
    if not CHANNEL_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack channel id (like C0123ABCD; copy it from the channel's details)")
    return value


def _user_id(value: str) -> str:
    if not USER_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack user id (like U0123ABCD)")
    return value


def _user_or_group_id(value: str) -> str:
    if not (USER_ID.match(value) or GROUP_ID.match(value)):
        raise ValueError(f"{value!r} is not a Slack user id (U…) or user group id (S…)")
    return value


def duration(value: Any) -> timedelta:
    """``90s``, ``15m``, ``4h``, ``1h30m``, ``2d``; a bare number is seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_duration(f"{int(value)}s")
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 90s, 15m or 4h")
    return parse_duration(value)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (like Europe/Berlin or UTC)") from None
    return value


def _cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(f"{value!r} is not a 5-field cron expression (minute hour day month weekday)")
    return value


def http_url(value: str) -> str:
    """An http(s) URL with no credentials in it: secrets never go in the config file."""
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    if "@" in value.split("//", 1)[1].split("/", 1)[0]:
        raise ValueError("has credentials in it; secrets never go in this file")
    return value


ChannelId = Annotated[str, AfterValidator(_channel_id)]
HttpUrl = Annotated[str, AfterValidator(http_url)]
UserId = Annotated[str, AfterValidator(_user_id)]
UserOrGroupId = Annotated[str, AfterValidator(_user_or_group_id)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
Cron = Annotated[str, AfterValidator(_cron)]
Duration = Annotated[timedelta, BeforeValidator(duration)]


class Strict(BaseModel):
    """A config section: unknown keys are rejected (typos), values are frozen once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
